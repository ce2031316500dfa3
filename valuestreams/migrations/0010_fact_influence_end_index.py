"""An index on where each item's influence ends (done, canceled, or still open), so planning an
incremental recompute finds the items reaching the recent windows without reading every fact."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("valuestreams", "0009_import_team_field")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX workitemfact_influence_end ON valuestreams_workitemfact"
            " (portfolio_id, (coalesce(done, canceled_at, 'infinity'::timestamptz)))",
            reverse_sql="DROP INDEX workitemfact_influence_end",
        ),
    ]
