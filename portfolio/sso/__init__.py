"""Single sign-on through OpenID Connect, with portfolio roles from the provider's group claims.

The package reads as its stages:

- ``config``   — the environment → `SsoSettings` (pure; settings.py calls it, so a bad value stops start-up)
- ``mapping``  — the groups claim → the portfolio roles it grants (pure)
- ``client``   — the OIDC protocol with Authlib: authorization code + PKCE, state, nonce, verified ID token
- ``services`` — the signed-in person: user keyed on issuer + subject, profile and roles in one transaction
- ``selectors`` — what administrators see of the configuration and of the roles SSO changed
- ``forms``, ``views``, ``urls`` — the password form's break-glass rule and the sign-in pages
- ``demo``     — the in-process provider's people for ``STEWARD_DEMO_OIDC=1`` (pure data)

Nothing here is imported at package level, so that settings.py can import ``config`` without Django.
"""
