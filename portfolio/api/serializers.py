from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolio.models import Portfolio
from valuestreams.selectors.recompute_state import recompute_failure


class RecomputeFailureSerializer(serializers.Serializer):
    """The portfolio's latest recompute failed (its metrics are those of the last good run)."""

    job_id = serializers.IntegerField(
        help_text="The failed recompute job (/api/v1/recompute-jobs/)."
    )
    failed_at = serializers.DateTimeField()
    error = serializers.CharField(help_text="Why it failed.")


class PortfolioSerializer(serializers.ModelSerializer):
    value_stream_count = serializers.IntegerField(read_only=True)
    team_count = serializers.IntegerField(read_only=True)
    recompute_failure = serializers.SerializerMethodField(
        help_text="Set while the latest recompute of the portfolio has failed; null otherwise."
    )

    class Meta:
        model = Portfolio
        fields = [
            "id",
            "name",
            "description",
            "currency",
            "time_zone",
            "funding_transparency",
            "value_stream_count",
            "team_count",
            "recompute_failure",
        ]

    @extend_schema_field(RecomputeFailureSerializer(allow_null=True))
    def get_recompute_failure(self, portfolio: Portfolio) -> dict | None:
        failure = recompute_failure(portfolio)
        return None if failure is None else RecomputeFailureSerializer(failure).data
