"""The done index of item facts covers an incremental run's read of the items done in its
windows; metric rows that change every day (the open windows' load and time in status) are
rewritten in place, so their tables keep half of each page free for the new versions (an UPDATE
that changes no indexed column and finds room on the row's page touches no index)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0002_integration_tokens'),
        ('valuestreams', '0012_exact_status_sums'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='workitemfact',
            name='valuestream_done_39ae1f_idx',
        ),
        migrations.RunSQL(
            "ALTER TABLE valuestreams_flowmetric SET (fillfactor = 50)",
            "ALTER TABLE valuestreams_flowmetric RESET (fillfactor)",
        ),
        migrations.RunSQL(
            "ALTER TABLE valuestreams_statustime SET (fillfactor = 50)",
            "ALTER TABLE valuestreams_statustime RESET (fillfactor)",
        ),
        migrations.AddIndex(
            model_name='workitemfact',
            index=models.Index(fields=['done'], include=('portfolio', 'item', 'item_type', 'flow_time_s', 'active_s', 'team_id', 'value_stream_id'), name='workitemfact_done_covering'),
        ),
    ]
