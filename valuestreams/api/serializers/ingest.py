"""Serializers of the ingest API. The batch bodies are described here for the OpenAPI schema; they are
checked record by record in ``valuestreams.parsing.batch`` (which reports every bad record at once)."""

from rest_framework import serializers

from valuestreams.models import ImportJob


class StatusEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When the item entered the status (with an offset).")
    status = serializers.CharField(max_length=120)


class TypeChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    to = serializers.CharField(max_length=120)
    from_ = serializers.CharField(
        max_length=120, required=False, help_text="Needed on the first type change."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class BlockedChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    blocked = serializers.BooleanField()


TEAM_HELP = "A team id of the portfolio, or a team name (case-insensitive)."
SOURCE_HELP = "The source system, e.g. jira; defaults to the batch's source."


class WorkItemRecordSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=120)
    source = serializers.CharField(max_length=40, required=False, help_text=SOURCE_HELP)
    type = serializers.CharField(max_length=120, help_text="The item's current type, e.g. Story.")
    title = serializers.CharField(max_length=500, required=False)
    team = serializers.CharField(required=False, allow_null=True, help_text=TEAM_HELP)
    created_at = serializers.DateTimeField()
    url = serializers.URLField(max_length=500, required=False)
    status_history = StatusEntrySerializer(
        many=True, help_text="Every status entered; the first is the creation status."
    )
    type_changes = TypeChangeSerializer(many=True, required=False)
    blocked_changes = BlockedChangeSerializer(many=True, required=False)


class DeploymentRecordSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=120)
    source = serializers.CharField(max_length=40, required=False, help_text=SOURCE_HELP)
    team = serializers.CharField(required=False, allow_null=True, help_text=TEAM_HELP)
    environment = serializers.CharField(max_length=40, default="production")
    successful = serializers.BooleanField(default=True)
    is_rework = serializers.BooleanField(default=False)
    started_at = serializers.DateTimeField(required=False)
    finished_at = serializers.DateTimeField()


class IncidentRecordSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=120)
    source = serializers.CharField(max_length=40, required=False, help_text=SOURCE_HELP)
    title = serializers.CharField(max_length=500, required=False)
    team = serializers.CharField(required=False, allow_null=True, help_text=TEAM_HELP)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(required=False)
    deployment = serializers.CharField(required=False, help_text="The deployment's key.")
    deployment_source = serializers.CharField(required=False)


class ChangeRecordSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=120)
    source = serializers.CharField(max_length=40, required=False, help_text=SOURCE_HELP)
    team = serializers.CharField(required=False, allow_null=True, help_text=TEAM_HELP)
    first_commit_at = serializers.DateTimeField()
    deployment = serializers.CharField(required=False, help_text="The deployment's key.")
    deployment_source = serializers.CharField(required=False)


def batch_serializer(record_serializer: type[serializers.Serializer], name: str):
    """The request body of a batch endpoint: {portfolio?, source?, dry_run?, records: [...]}."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "portfolio": serializers.IntegerField(
                required=False, help_text="Needed with a session; a token writes to its own."
            ),
            "source": serializers.CharField(required=False, help_text="Default for every record."),
            "dry_run": serializers.BooleanField(default=False),
            "records": record_serializer(many=True, help_text="At most 5000 records."),
        },
    )


class IngestErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True)
    key = serializers.CharField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class IngestSummarySerializer(serializers.Serializer):
    kind = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    warnings = IngestErrorSerializer(many=True)


class IngestErrorsSerializer(serializers.Serializer):
    errors = IngestErrorSerializer(many=True)


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = [
            "id",
            "portfolio",
            "format",
            "dry_run",
            "file_name",
            "team_field",
            "status",
            "progress",
            "summary",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    """A multipart upload; parses the form, the service checks it."""

    portfolio = serializers.IntegerField(required=False)
    format = serializers.ChoiceField(choices=ImportJob.Format.choices)
    file = serializers.FileField(help_text="Jira search JSON, or issues.csv for a CSV pair.")
    changes_file = serializers.FileField(required=False, help_text="changes.csv of a CSV pair.")
    dry_run = serializers.BooleanField(default=False)
    team_field = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Jira only: the field holding the team (customfield_10001, or its display name"
        " when the search was fetched with expand=names).",
    )
