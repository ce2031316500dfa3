"""Serializers for teams: a team with who is in it today (explicit fields only)."""

from rest_framework import serializers

from teams.models import ProductTeam, TeamMembership


class SeatSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="person_id", read_only=True)
    name = serializers.SerializerMethodField()

    class Meta:
        model = TeamMembership
        fields = ["person", "name", "role_title", "allocation_percent", "start_date", "end_date"]

    def get_name(self, seat: TeamMembership) -> str:
        return seat.person.get_full_name() or seat.person.username


class ProductTeamSerializer(serializers.ModelSerializer):
    """A team with its current seats. Cost fields are null where the caller may not see money."""

    portfolio = serializers.IntegerField(source="value_stream.portfolio_id", read_only=True)
    members = SeatSerializer(source="current_seats", many=True, read_only=True)

    class Meta:
        model = ProductTeam
        fields = [
            "id",
            "portfolio",
            "value_stream",
            "name",
            "mission",
            "topology",
            "formed_on",
            "capacity_fte",
            "loaded_cost_per_fte",
            "members",
        ]
        # null where the caller may not see money: documented as such
        extra_kwargs = {"loaded_cost_per_fte": {"allow_null": True}}

    def to_representation(self, team: ProductTeam) -> dict:
        data = super().to_representation(team)
        if team.value_stream.portfolio_id not in self.context["money_portfolio_ids"]:
            data["loaded_cost_per_fte"] = None
        return data
