"""Serializers for seats (team memberships): a seat as read, a new seat, its end, and the
answer to a write with its plausibility warnings (explicit fields only)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from teams.models import TeamMembership


class TeamSeatSerializer(serializers.ModelSerializer):
    """A seat: who, in which team, how much of their time, from when to when (null: open-ended)."""

    name = serializers.SerializerMethodField()

    class Meta:
        model = TeamMembership
        fields = [
            "id",
            "team",
            "person",
            "name",
            "role_title",
            "allocation_percent",
            "start_date",
            "end_date",
        ]
        read_only_fields = fields

    def get_name(self, seat: TeamMembership) -> str:
        return seat.person.get_full_name() or seat.person.username


class SeatCreateSerializer(serializers.ModelSerializer):
    """A new seat. `person` is any active user's id; the rules (1–100 %, an end after the start,
    no overlap with the person's other seats in the team) are the service's."""

    team = serializers.IntegerField(help_text="The team's id; you must be its Lean PMO.")
    allocation_percent = serializers.IntegerField(
        min_value=1,
        max_value=100,
        help_text="The share of the person's working time in this team, 1 to 100.",
        error_messages={
            "min_value": "An allocation is a share of the person's time: at least 1 %%.",
            "max_value": "An allocation is a share of the person's time: at most 100 %%.",
        },
    )
    person = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        error_messages={"does_not_exist": "No active user {pk_value}."},
    )

    class Meta:
        model = TeamMembership
        fields = ["team", "person", "role_title", "allocation_percent", "start_date", "end_date"]
        validators: list = []  # the service validates the seat with the team's other seats


class PlausibilityWarningSerializer(serializers.Serializer):
    """A reason to look twice at what was written: `code` and a sentence for people."""

    code = serializers.CharField()
    message = serializers.CharField()


class SeatPostedSerializer(TeamSeatSerializer):
    """The seat just added, with the warnings it raised (over 100 % allocated in total)."""

    warnings = PlausibilityWarningSerializer(many=True, read_only=True)

    class Meta(TeamSeatSerializer.Meta):
        fields = [*TeamSeatSerializer.Meta.fields, "warnings"]


class SeatEndSerializer(serializers.Serializer):
    """The seat's last day in the team (default: today)."""

    end_date = serializers.DateField(required=False)
