from rest_framework import serializers

from valuestreams.models import ValueStream


class ValueStreamSerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()
    team_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ValueStream
        fields = [
            "id",
            "portfolio",
            "name",
            "customer",
            "owner",
            "owner_name",
            "description",
            "team_count",
        ]

    def get_owner_name(self, value_stream: ValueStream) -> str | None:
        owner = value_stream.owner
        return (owner.get_full_name() or owner.username) if owner else None
