from rest_framework import viewsets

from portfolio.api.serializers import PortfolioSerializer
from portfolio.selectors import portfolio_list


class PortfolioViewSet(viewsets.ReadOnlyModelViewSet):
    """Portfolios the caller belongs to (outsiders: an empty list, and 404 on any id)."""

    serializer_class = PortfolioSerializer

    def get_queryset(self):
        return portfolio_list(self.request.user)
