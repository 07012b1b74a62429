"""Set-based validation and normalisation of messages in DuckDB, for the loader and imports.

The API validates each message in Python as it arrives (it must answer per message). Bulk
paths cannot afford Python per event, so the same rules are written here once more as SQL
over a table of JSON lines; ``tests/ingest/test_import.py`` feeds the same messages through
both and requires the same result.

Both functions turn ``lines(seq BIGINT, line VARCHAR)`` into the *normalised* relation that
the pipeline loads (columns of :data:`NORM_COLUMNS`).
"""

from __future__ import annotations

import duckdb

from cxloop.ingest import spec

NORM_COLUMNS = (
    "seq",
    "message_id",
    "generated_id",
    "type",
    "event",
    "name",
    "user_id",
    "anonymous_id",
    "previous_id",
    "group_id",
    "timestamp",
    "received_at",
    "original_timestamp",
    "sent_at",
    "channel",
    "properties",
    "traits",
    "context",
    "context_fields",  # the values of CONTEXT_PATHS, in order: the context parsed once
)
# context fields the event store keeps in columns of their own (column: path in the context)
CONTEXT_PATHS = {
    "ip": "ip",
    "library_name": "library.name",
    "library_version": "library.version",
    "user_agent": "userAgent",
    "locale": "locale",
    "timezone": "timezone",
    "campaign_source": "campaign.source",
    "campaign_medium": "campaign.medium",
    "campaign_name": "campaign.name",
    "campaign_term": "campaign.term",
    "campaign_content": "campaign.content",
    "device_type": "device.type",
    "device_id": "device.id",
    "os_name": "os.name",
    "app_version": "app.version",
    "page_url": "page.url",
    "page_path": "page.path",
    "page_referrer": "page.referrer",
    "page_title": "page.title",
}
_CONTEXT_JSON_PATHS = ", ".join(f"'$.{p}'" for p in CONTEXT_PATHS.values())

# -- the inbox: events the API already normalised (spec.Event as JSON objects) --------------

# the fields of spec.Event carry the same names as the normalised columns (bar ``seq`` and
# ``context_fields``)
_EVENT_FIELDS = NORM_COLUMNS[1:-1]


def from_events(con: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """The view ``target``: the events of ``source`` (JSON lines of :class:`spec.Event`)."""
    paths = ", ".join(f"'$.{f}'" for f in _EVENT_FIELDS)
    v = {f: f"v[{i + 1}]" for i, f in enumerate(_EVENT_FIELDS)}

    def ts(field: str) -> str:
        return f"make_timestamp(CAST({v[field]} AS BIGINT))::TIMESTAMPTZ"

    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {target} AS
        SELECT seq,
               {v["message_id"]} AS message_id,
               coalesce({v["generated_id"]} = 'true', false) AS generated_id,
               {v["type"]} AS type, {v["event"]} AS event, {v["name"]} AS name,
               {v["user_id"]} AS user_id, {v["anonymous_id"]} AS anonymous_id,
               {v["previous_id"]} AS previous_id, {v["group_id"]} AS group_id,
               {ts("timestamp")} AS timestamp, {ts("received_at")} AS received_at,
               {ts("original_timestamp")} AS original_timestamp, {ts("sent_at")} AS sent_at,
               coalesce({v["channel"]}, 'server') AS channel,
               {v["properties"]} AS properties, {v["traits"]} AS traits,
               {v["context"]} AS context,
               json_extract_string({v["context"]}, [{_CONTEXT_JSON_PATHS}]) AS context_fields
        FROM (SELECT seq, json_extract_string(line, [{paths}]) AS v FROM {source})
        """  # noqa: S608 (names are this module's constants)
    )


# -- raw Segment messages (imports) ---------------------------------------------------------

_RAW_FIELDS = (
    "type",
    "messageId",
    "userId",
    "anonymousId",
    "event",
    "name",
    "properties",
    "traits",
    "context",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "previousId",
    "groupId",
    "channel",
    "receivedAt",
)
_TEXT = (
    "type",
    "event",
    "name",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "channel",
    "receivedAt",
)
_ID = ("messageId", "userId", "anonymousId", "previousId", "groupId")
_OBJECT = ("properties", "traits", "context")
_JSON_TYPE_NAMES = {
    "VARCHAR": "str",
    "BIGINT": "int",
    "UBIGINT": "int",
    "DOUBLE": "float",
    "BOOLEAN": "bool",
    "ARRAY": "array",
    "OBJECT": "object",
}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _col(field: str) -> str:
    return "f_" + field.lower()


def _typ(field: str) -> str:
    return "t_" + field.lower()


def _got(field: str) -> str:
    names = " ".join(f"WHEN '{k}' THEN '{n}'" for k, n in _JSON_TYPE_NAMES.items())
    return f"(CASE {_typ(field)} {names} ELSE lower({_typ(field)}) END)"


def _checks() -> list[tuple[str, str, str]]:
    """(condition, loc, reason) in the order the API checks them; the first that holds wins."""
    limit = spec.MAX_EVENT_BYTES
    checks: list[tuple[str, str, str]] = [
        ("NOT ok", "''", "'not valid JSON'"),
        ("NOT is_object", "''", "'a message must be a JSON object'"),
        (
            f"size > {limit}",
            "''",
            "'the message is ' || size || ' bytes; the limit is 32 KB per message'",
        ),
    ]
    for field in _TEXT:
        reason = f"'expected str, got ' || {_got(field)}"
        checks.append((f"{_typ(field)} NOT IN ('VARCHAR', 'NULL')", _sql_text(field), reason))
    for field in _ID:
        reason = f"'expected str | int, got ' || {_got(field)}"
        allowed = "('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL')"
        checks.append((f"{_typ(field)} NOT IN {allowed}", _sql_text(field), reason))
    for field in _OBJECT:
        reason = f"'expected object, got ' || {_got(field)}"
        checks.append((f"{_typ(field)} NOT IN ('OBJECT', 'NULL')", _sql_text(field), reason))
    kinds = ", ".join(sorted(spec.MESSAGE_TYPES))
    kinds_sql = ", ".join(_sql_text(k) for k in sorted(spec.MESSAGE_TYPES))
    not_one_of = "'''' || left(kind, 30) || " + _sql_text(f"' is not one of {kinds}")
    checks += [
        ("kind IS NULL OR kind = ''", "'type'", _sql_text(f"required: one of {kinds}")),
        (f"kind NOT IN ({kinds_sql})", "'type'", not_one_of),
        ("length(uid) > 400", "'userId'", "'longer than 400 characters'"),
        ("length(aid) > 400", "'anonymousId'", "'longer than 400 characters'"),
        (
            "uid IS NULL AND aid IS NULL",
            "'userId'",
            "'every message needs a userId or an anonymousId'",
        ),
        (
            "kind = 'track' AND ev IS NULL",
            "'event'",
            "'required for track: the name of the event'",
        ),
        ("length(pid) > 400", "'previousId'", "'longer than 400 characters'"),
        (
            "kind = 'alias' AND pid IS NULL",
            "'previousId'",
            "'required for alias: the id to merge from'",
        ),
        ("length(gid) > 400", "'groupId'", "'longer than 400 characters'"),
        ("kind = 'group' AND gid IS NULL", "'groupId'", "'required for group'"),
    ]
    times = (
        ("originalTimestamp", "ot"),
        ("timestamp", "ts"),
        ("sentAt", "st"),
        ("receivedAt", "rt"),
    )
    for field, parsed in times:
        raw = _col(field)
        # like the API: timestamp is only read when there is no originalTimestamp
        only_if = f"{_col('originalTimestamp')} IS NULL AND " if field == "timestamp" else ""
        reason = "'''' || left(" + raw + ", 40) || ''' is not an ISO-8601 time'"
        checks.append(
            (f"{only_if}{raw} IS NOT NULL AND {parsed} IS NULL", _sql_text(field), reason)
        )
    return checks


def _cap(text: str, chars: int) -> str:
    """``left(text, chars)``, without counting the characters of a text whose bytes already
    fit (most of them: counting is most of what left() costs)."""
    return f"CASE WHEN strlen({text}) <= {chars} THEN {text} ELSE left({text}, {chars}) END"


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()


_DERIVED = """
    lower(trim(f_type)) AS kind,
    nullif(trim(f_userid), '') AS uid, nullif(trim(f_anonymousid), '') AS aid,
    nullif(trim(f_event), '') AS ev, nullif(trim(f_previousid), '') AS pid,
    nullif(trim(f_groupid), '') AS gid,
    TRY_CAST(trim(f_originaltimestamp) AS TIMESTAMPTZ) AS ot,
    TRY_CAST(trim(f_timestamp) AS TIMESTAMPTZ) AS ts,
    TRY_CAST(trim(f_sentat) AS TIMESTAMPTZ) AS st,
    TRY_CAST(trim(f_receivedat) AS TIMESTAMPTZ) AS rt
"""


def parse_lines(con: duckdb.DuckDBPyConnection, source: str, *, skip_blank: bool = False) -> None:
    """The view ``_parsed`` over ``source(seq, line)``: every line on its own, so a line that
    is not JSON, not an object or too large is reported, never skipped."""
    paths = ", ".join(f"'$.{f}'" for f in _RAW_FIELDS)
    values = ", ".join(f"v[{i}] AS {_col(f)}" for i, f in enumerate(_RAW_FIELDS, start=1))
    types = ", ".join(f"t[{i}] AS {_typ(f)}" for i, f in enumerate(_RAW_FIELDS, start=1))
    _run(
        con,
        f"""
        CREATE OR REPLACE TEMP VIEW _parsed AS
        SELECT *, {_DERIVED}
        FROM (
            SELECT seq, ok, is_object, size, {values}, {types}
            FROM (
                SELECT seq, json_valid(line) AS ok, strlen(line) AS size,
                       CASE WHEN ok THEN json_type(line) = 'OBJECT' ELSE false END AS is_object,
                       CASE WHEN ok THEN json_extract_string(line, [{paths}]) END AS v,
                       CASE WHEN ok THEN json_type(line, [{paths}]) END AS t
                FROM {source} {"WHERE trim(line) <> ''" if skip_blank else ""}
            )
        )
        """,  # noqa: S608 (names and paths are this module's constants)
    )


def parse_file(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """The view ``_parsed`` over a JSON-lines file, read by DuckDB's own reader: several
    times faster than :func:`parse_lines`, but a line it cannot read is skipped, so the
    caller compares the row count :func:`check` returns with the lines it wrote.

    Here ``seq`` is the 1-based row number within the file.
    """
    columns = ", ".join(f"'{f}': '{'JSON' if f in _OBJECT else 'VARCHAR'}'" for f in _RAW_FIELDS)
    values = ", ".join(f'"{f}" AS {_col(f)}' for f in _RAW_FIELDS)
    # DuckDB's reader turns numbers into text for VARCHAR columns; objects and arrays are
    # kept as JSON text, so they are told apart from strings by their first character.
    types = ", ".join(
        # the reader gave valid JSON: one that opens with a brace is an object, unparsed
        f"CASE WHEN left({_col(f)}, 1) = '{{' THEN 'OBJECT' ELSE json_type({_col(f)}) END "
        f"AS {_typ(f)}"
        if f in _OBJECT
        else (
            f"CASE WHEN {_col(f)} IS NULL THEN 'NULL' "
            f"WHEN left({_col(f)}, 1) IN ('{{', '[') AND json_valid({_col(f)}) "
            f"THEN json_type({_col(f)}) ELSE 'VARCHAR' END AS {_typ(f)}"
        )
        for f in _RAW_FIELDS
    )
    quoted = path.replace("'", "''")
    _run(
        con,
        f"""
        CREATE OR REPLACE TEMP VIEW _parsed AS
        SELECT *, {_DERIVED}
        FROM (
            SELECT seq, true AS ok, true AS is_object, 0 AS size, *, {types}
            FROM (
                SELECT row_number() OVER () AS seq, {values}
                FROM read_json('{quoted}', format = 'newline_delimited',
                               columns = {{{columns}}}, ignore_errors = true)
            )
        )
        """,  # noqa: S608 (the path is one we made)
    )


def check(con: duckdb.DuckDBPyConnection) -> int:
    """Parse and judge every message of ``_parsed`` once (into ``_checked``); returns the
    number of rows read."""
    verdict = " ".join(
        f"WHEN {cond} THEN struct_pack(loc := {loc}, reason := {reason})"
        for cond, loc, reason in _checks()
    )
    # the types only serve the verdict: not kept (nor their statistics computed)
    types = ", ".join(_typ(f) for f in _RAW_FIELDS)
    checked = (
        f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT * EXCLUDE ({types}, ok, is_object), "
        f"CASE {verdict} END AS bad"
    )
    _run(con, checked + " FROM _parsed")
    _run(con, "DROP VIEW _parsed")
    return int(con.execute("SELECT count(*) FROM _checked").fetchall()[0][0])


def longest(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes of the longest message of ``_checked`` (the file path cannot check the limit
    per line, so a chunk with a message over it is read line by line)."""
    fields = " + ".join(f"coalesce(strlen(CAST({_col(f)} AS VARCHAR)), 0)" for f in _RAW_FIELDS)
    return int(con.execute(f"SELECT coalesce(max({fields}), 0) FROM _checked").fetchall()[0][0])  # noqa: S608


def empty_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of ``_checked`` with no field at all. DuckDB's reader turns a line it cannot
    parse into such a row, so any of them sends the chunk to the line-by-line path."""
    nothing = " AND ".join(f"{_col(f)} IS NULL" for f in _RAW_FIELDS)
    return int(con.execute(f"SELECT count(*) FROM _checked WHERE {nothing}").fetchall()[0][0])  # noqa: S608


def discard(con: duckdb.DuckDBPyConnection) -> None:
    _run(con, "DROP TABLE _checked")


def finish(
    con: duckdb.DuckDBPyConnection,
    target: str,
    rejected: str,
    received_at: str,
    *,
    historical: bool = True,
) -> None:
    """From ``_checked``: the view ``target`` of valid messages, normalised, and the table
    ``rejected(seq, loc, reason)`` of the others with the reasons the API gives.
    ``_checked`` stays until the caller has read ``target`` (see :func:`discard`).

    ``historical`` (imports): the clock-skew correction uses the row's own ``receivedAt``
    (as in a Segment export) and is skipped without one, because the time of the import
    says nothing about when the device sent the message. Otherwise ``received_at`` is
    taken as the time of receipt, as the API does.
    """
    aliases = " ".join(
        f"WHEN '{k}' THEN '{n}'"
        for k, n in (("browser", "web"), ("mobile", "app"), ("website", "web"))
    )
    libraries = " ".join(
        f"WHEN lib LIKE '%{needle}%' THEN '{channel}'" for needle, channel in spec.LIBRARY_CHANNELS
    )
    # the id of a message without messageId: a digest of its content, the same every import
    content = (
        "md5(concat_ws(chr(31), "
        + ", ".join(f"coalesce(CAST({_col(f)} AS VARCHAR), '')" for f in _RAW_FIELDS)
        + "))"
    )
    _run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE {rejected} AS
        SELECT seq, bad.loc AS loc, bad.reason AS reason FROM _checked WHERE bad IS NOT NULL
        """,  # noqa: S608
    )
    receipt = "rt" if historical else f"CAST({_sql_text(received_at)} AS TIMESTAMPTZ)"
    # the context is parsed once: its channel, then the fields of CONTEXT_PATHS
    n = len(CONTEXT_PATHS)
    channel = "cx[1]"
    # Segment's top-level channel names the library kind; its 'server' says nothing
    top_channel = "nullif(lower(trim(f_channel)), 'server')"
    library = f"cx[{2 + list(CONTEXT_PATHS).index('library_name')}]"
    _run(
        con,
        f"""
        CREATE OR REPLACE TEMP VIEW {target} AS
        SELECT seq,
               CASE WHEN mid IS NULL THEN 'imp-' || {content} ELSE {_cap("mid", 200)} END
                   AS message_id,
               false AS generated_id,
               kind AS type,
               {_cap("ev", 200)} AS event,
               {_cap("nullif(f_name, '')", 200)} AS name,
               uid AS user_id, aid AS anonymous_id, pid AS previous_id, gid AS group_id,
               CASE WHEN o IS NULL THEN coalesce(r, loaded_at) WHEN st IS NULL OR r IS NULL THEN o
                    ELSE r - (st - o) END AS timestamp,
               coalesce(r, loaded_at) AS received_at, o AS original_timestamp, st AS sent_at,
               left(CASE WHEN explicit IS NOT NULL THEN (CASE explicit {aliases} ELSE explicit END)
                    {libraries}
                    WHEN kind = 'page' THEN 'web' WHEN kind = 'screen' THEN 'app'
                    ELSE 'server' END, 40) AS channel,
               nullif(CAST(f_properties AS VARCHAR), '{{}}') AS properties,
               -- RudderStack's SDKs send the traits of identify in context.traits only
               CASE WHEN kind = 'identify' AND nullif(CAST(f_traits AS VARCHAR), '{{}}') IS NULL
                    THEN nullif(json_extract_string(f_context, '$.traits'), '{{}}')
                    ELSE nullif(CAST(f_traits AS VARCHAR), '{{}}') END AS traits,
               nullif(CAST(f_context AS VARCHAR), '{{}}') AS context,
               list_slice(cx, 2, {n + 1}) AS context_fields
        FROM (
            SELECT *, nullif(trim(f_messageid), '') AS mid, coalesce(ot, ts) AS o,
                   {receipt} AS r,
                   CAST({_sql_text(received_at)} AS TIMESTAMPTZ) AS loaded_at,
                   nullif(lower(trim(coalesce({channel}, {top_channel}))), '') AS explicit,
                   lower(coalesce({library}, '')) AS lib
            FROM (
                SELECT *, json_extract_string(f_context, ['$.channel', {_CONTEXT_JSON_PATHS}])
                          AS cx
                FROM _checked WHERE bad IS NULL
            )
        )
        """,  # noqa: S608
    )
