"""The embedded services `make run` starts when no DATABASE_URL / REDIS_URL is given."""

import psycopg
import redis

from config.embedded import EmbeddedServices, read_services_file


def test_embedded_postgres_and_redis_start_answer_and_stop(tmp_path):
    services = EmbeddedServices(tmp_path)
    try:
        db_url = services.start_postgres("steward_probe")
        redis_url = services.start_redis()
        services.write_services_file()
        with psycopg.connect(db_url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("steward_probe",)
        client = redis.Redis.from_url(redis_url)
        assert client.ping()
        assert read_services_file(tmp_path) == {"DATABASE_URL": db_url, "REDIS_URL": redis_url}
    finally:
        services.stop()
    assert read_services_file(tmp_path) == {}
    assert services.redis is None


def test_embedded_postgres_keeps_its_data_between_starts(tmp_path):
    first = EmbeddedServices(tmp_path)
    try:
        with psycopg.connect(first.start_postgres("keep"), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
    finally:
        first.stop()
    second = EmbeddedServices(tmp_path)
    try:
        with psycopg.connect(second.start_postgres("keep")) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    finally:
        second.stop()
