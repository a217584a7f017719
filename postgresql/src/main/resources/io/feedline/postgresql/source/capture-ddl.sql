-- Feedline: what a PostgreSQL database needs so that changefeeds capture its schema changes (tables created,
-- altered and dropped after a changefeed starts). Run once per database by a superuser (event triggers need
-- one); running it again is harmless. `feedline source setup --source URI` prints it for the URI's role, and
-- applies it with --apply. Changefeeds refuse to start on a database without it.
CREATE SCHEMA IF NOT EXISTS feedline_capture;

-- Every table DDL, in the order run, with the table's definition after it; 'exists' rows record the tables
-- that were there when the capture was installed or a changefeed created (commit_lsn 0/0), so that every DDL
-- can say what the table was before it. A Feedline stream that reads a DDL's transaction records the position
-- it committed at (commit_lsn, exact) before it hands the DDL over, so that the tables that existed at a past
-- changefeed position can be told exactly; a changefeed's create bounds those committed before it started
-- (commit_lsn, not exact). Rows that a later row of their table below every changefeed's slot supersedes are
-- pruned: nobody asks about them any more.
CREATE TABLE IF NOT EXISTS feedline_capture.ddl_history (
  id bigserial PRIMARY KEY,
  table_oid oid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('exists', 'create', 'alter', 'drop')),
  schema_name name NOT NULL,
  table_name name NOT NULL,
  keyed boolean NOT NULL,
  definition jsonb,
  commit_lsn pg_lsn,
  exact boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS ddl_history_table ON feedline_capture.ddl_history (table_oid, id);

-- Where a changefeed (by its slot's name) placed the event a DDL became: a transaction's DDL events sit just
-- below its commit, at positions that depend on which of its DDLs the changefeed captures.
CREATE TABLE IF NOT EXISTS feedline_capture.ddl_positions (
  entry bigint NOT NULL REFERENCES feedline_capture.ddl_history (id) ON DELETE CASCADE,
  changefeed name NOT NULL,
  position pg_lsn NOT NULL,
  PRIMARY KEY (entry, changefeed)
);

-- The changefeeds (by their slot's name) whose create bounded the entries committed before they started: a
-- slot without its row was left by a create that did not finish, and is made again.
CREATE TABLE IF NOT EXISTS feedline_capture.changefeeds (
  slot name PRIMARY KEY
);

-- The publications Feedline owns, with the table rules of their changefeed (POSIX regexes of schema.table,
-- '!' first for an exclusion; the last that matches decides): a table created later that they capture joins
-- the publication in the transaction that creates it, so none of its rows is missed.
CREATE TABLE IF NOT EXISTS feedline_capture.publications (
  publication name PRIMARY KEY,
  rules text[] NOT NULL
);

CREATE OR REPLACE FUNCTION feedline_capture.captures(rules text[], qualified text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  rule text;
  captured boolean := false;
BEGIN
  FOREACH rule IN ARRAY rules LOOP
    IF left(rule, 1) = '!' THEN
      IF qualified ~ substr(rule, 2) THEN captured := false; END IF;
    ELSIF qualified ~ rule THEN
      captured := true;
    END IF;
  END LOOP;
  RETURN captured;
END $$;

-- A table as the catalog has it right after a DDL: its columns, its key (the primary key, else the replica
-- identity index) and whether its rows can be identified by it (as Feedline's create checks require).
CREATE OR REPLACE FUNCTION feedline_capture.table_definition(rel oid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH t AS (
    SELECT c.oid, n.nspname, c.relname, c.relreplident,
      (SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}') FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
      (SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}') FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisreplident) AS ident
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel)
  SELECT jsonb_build_object(
    'schema', t.nspname, 'name', t.relname,
    'key', to_jsonb(CASE WHEN cardinality(t.pk) > 0 THEN t.pk ELSE t.ident END),
    'keyed', t.relreplident <> 'n' AND (cardinality(t.pk) > 0 OR cardinality(t.ident) > 0)
             AND NOT (t.relreplident = 'i' AND cardinality(t.pk) > 0 AND t.pk <> t.ident),
    'columns', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                  'typeOid', a.atttypid::int, 'notNull', a.attnotnull, 'number', a.attnum) ORDER BY a.attnum), '[]'::jsonb)
                FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped))
  FROM t
$$;

-- The definition the last row of a table recorded: what the table was before the DDL being recorded.
CREATE OR REPLACE FUNCTION feedline_capture.definition_before(rel oid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT definition FROM feedline_capture.ddl_history WHERE table_oid = rel ORDER BY id DESC LIMIT 1
$$;

-- Records the tables no row tells of yet as they are now, before any position a changefeed will ask about.
CREATE OR REPLACE FUNCTION feedline_capture.record_existing() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO feedline_capture.ddl_history (table_oid, kind, schema_name, table_name, keyed, definition, commit_lsn, exact)
  SELECT c.oid, 'exists', n.nspname, c.relname, (d->>'keyed')::boolean, d, '0/0', true
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL feedline_capture.table_definition(c.oid) AS d
  WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'feedline_capture') AND n.nspname NOT LIKE 'pg\_%'
    AND NOT EXISTS (SELECT 1 FROM feedline_capture.ddl_history h WHERE h.table_oid = c.oid)
$$;

-- Records one table DDL in the history and writes it into the WAL as a transactional logical message, with what
-- the table was before it: what both event triggers do for each table they see.
CREATE OR REPLACE FUNCTION feedline_capture.record_ddl(rel oid, change text, p_schema name, p_table name, def jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  before jsonb := feedline_capture.definition_before(rel);
  entry bigint;
BEGIN
  INSERT INTO feedline_capture.ddl_history (table_oid, kind, schema_name, table_name, keyed, definition)
    VALUES (rel, change, p_schema, p_table, coalesce((def->>'keyed')::boolean, false), CASE WHEN change = 'drop' THEN NULL ELSE def END)
    RETURNING id INTO entry;
  PERFORM pg_logical_emit_message(true, 'feedline-ddl',
    jsonb_build_object('id', entry, 'kind', change, 'oid', rel::bigint, 'table', def, 'before', before)::text);
END $$;

CREATE OR REPLACE FUNCTION feedline_capture.on_ddl_command_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rel oid;
  change text;
  def jsonb;
  pub name;
BEGIN
  -- A CREATE TABLE also reports ALTER TABLE subcommands of the new table (inline constraints): it is a create.
  FOR rel, change IN
    SELECT d.objid, CASE WHEN bool_or(d.command_tag <> 'ALTER TABLE') THEN 'create' ELSE 'alter' END
    FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.oid = d.objid
    WHERE d.classid = 'pg_class'::regclass AND d.object_type = 'table' AND c.relkind = 'r' AND c.relpersistence = 'p'
      AND NOT c.relispartition AND c.relnamespace <> 'feedline_capture'::regnamespace
    GROUP BY d.objid ORDER BY d.objid
  LOOP
    def := feedline_capture.table_definition(rel);
    IF (def->>'keyed')::boolean THEN
      FOR pub IN SELECT p.publication FROM feedline_capture.publications p JOIN pg_publication pp ON pp.pubname = p.publication
          WHERE feedline_capture.captures(p.rules, (def->>'schema') || '.' || (def->>'name'))
            AND NOT EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prpubid = pp.oid AND pr.prrelid = rel)
      LOOP
        EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I.%I', pub, def->>'schema', def->>'name');
      END LOOP;
    END IF;
    PERFORM feedline_capture.record_ddl(rel, change, def->>'schema', def->>'name', def);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION feedline_capture.on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  d record;
BEGIN
  FOR d IN SELECT * FROM pg_event_trigger_dropped_objects()
      WHERE object_type = 'table' AND NOT is_temporary AND schema_name <> 'feedline_capture' LOOP
    PERFORM feedline_capture.record_ddl(d.objid, 'drop', d.schema_name, d.object_name,
      jsonb_build_object('schema', d.schema_name, 'name', d.object_name));
  END LOOP;
END $$;

-- Called by a stream once it read the transaction of these history entries, before it hands them over: the
-- transaction's commit position, and where the changefeed placed the events some of them became.
CREATE OR REPLACE FUNCTION feedline_capture.ddl_committed(entries bigint[], lsn pg_lsn, changefeed name, positioned bigint[],
    positions pg_lsn[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  UPDATE feedline_capture.ddl_history SET commit_lsn = lsn, exact = true WHERE id = ANY (entries) AND NOT exact;
  INSERT INTO feedline_capture.ddl_positions (entry, changefeed, position)
    SELECT u.entry, changefeed, u.position FROM unnest(positioned, positions) AS u(entry, position) ON CONFLICT DO NOTHING;
  WITH horizon AS (SELECT min(confirmed_flush_lsn) AS lsn FROM pg_replication_slots
    WHERE slot_name LIKE 'feedline\_%' AND NOT temporary AND database = current_database())
  DELETE FROM feedline_capture.ddl_history h USING horizon
  WHERE h.commit_lsn < horizon.lsn AND EXISTS (SELECT 1 FROM feedline_capture.ddl_history later
    WHERE later.table_oid = h.table_oid AND later.id > h.id AND later.commit_lsn < horizon.lsn);
$$;

-- Called by a changefeed's create with the entries its slot's exported snapshot sees unread: they committed before
-- the slot's consistent point (no stream of the changefeed reads them). Marks the changefeed's create as done.
CREATE OR REPLACE FUNCTION feedline_capture.ddl_committed_before(lsn pg_lsn, entries bigint[], slot name) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  UPDATE feedline_capture.ddl_history SET commit_lsn = lsn WHERE id = ANY (entries) AND commit_lsn IS NULL;
  INSERT INTO feedline_capture.changefeeds (slot) VALUES (slot) ON CONFLICT DO NOTHING;
$$;

-- What only the functions above may do on behalf of a changefeed's role.
REVOKE ALL ON FUNCTION feedline_capture.ddl_committed(bigint[], pg_lsn, name, bigint[], pg_lsn[]),
  feedline_capture.ddl_committed_before(pg_lsn, bigint[], name), feedline_capture.record_existing(),
  feedline_capture.record_ddl(oid, text, name, name, jsonb) FROM PUBLIC;

DROP EVENT TRIGGER IF EXISTS feedline_ddl_command_end;
CREATE EVENT TRIGGER feedline_ddl_command_end ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE')
  EXECUTE FUNCTION feedline_capture.on_ddl_command_end();
DROP EVENT TRIGGER IF EXISTS feedline_sql_drop;
CREATE EVENT TRIGGER feedline_sql_drop ON sql_drop
  WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION feedline_capture.on_sql_drop();

GRANT USAGE ON SCHEMA feedline_capture TO :role;
GRANT SELECT ON feedline_capture.ddl_history TO :role;
GRANT SELECT, DELETE ON feedline_capture.ddl_positions, feedline_capture.changefeeds TO :role;
GRANT SELECT, INSERT, UPDATE, DELETE ON feedline_capture.publications TO :role;
GRANT EXECUTE ON FUNCTION feedline_capture.ddl_committed(bigint[], pg_lsn, name, bigint[], pg_lsn[]),
  feedline_capture.ddl_committed_before(pg_lsn, bigint[], name),
  feedline_capture.record_existing() TO :role;
-- The heartbeats that let idle tables' checkpoints advance.
GRANT EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) TO :role;
SELECT feedline_capture.record_existing();
