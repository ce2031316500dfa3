from portfolio.api.views import PortfolioViewSet

routes = [("portfolios", PortfolioViewSet, "portfolio")]
