package io.feedline.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.PostgresServer;
import io.feedline.common.testing.PostgresServerExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** {@code feedline source setup} in process against a real PostgreSQL: what it prints, applies and refuses. */
class SourceCommandTest {

  @RegisterExtension
  static final PostgresServerExtension POSTGRES = new PostgresServerExtension();
  private String out;
  private String err;

  @BeforeAll
  static void replicationRole() {
    POSTGRES.server().psql("postgres", "CREATE ROLE reader LOGIN REPLICATION");
  }

  @Test
  void printsTheSqlWithGrantsToTheUrisRoleWithoutConnecting() {
    assertThat(setup("--source", "postgresql://reader:secret@127.0.0.1:1/nowhere")).isZero();
    assertThat(out).contains("CREATE EVENT TRIGGER feedline_ddl_command_end", "CREATE EVENT TRIGGER feedline_sql_drop",
        "GRANT USAGE ON SCHEMA feedline_capture TO \"reader\"").doesNotContain("secret");
  }

  @Test
  void appliesAsASuperuserAndRefusesAnyoneElseWithTheReason() {
    String db = POSTGRES.server().createDatabase("setup_apply");
    assertThat(setup("--source", "postgresql://reader@127.0.0.1:" + POSTGRES.server().port() + "/" + db, "--apply")).isEqualTo(1);
    assertThat(err).startsWith("feedline source setup: cannot apply the set-up: ").contains("superuser");
    assertThat(installed(db)).isEqualTo("0");

    assertThat(setup("--source", POSTGRES.server().uri(db), "--apply")).as(err).isZero();
    assertThat(out).isEqualTo("applied: schema-change capture installed in database " + db + ", granted to role " + PostgresServer.SUPERUSER + "\n");
    assertThat(installed(db)).isEqualTo("2");
    assertThat(setup("--source", POSTGRES.server().uri(db), "--apply", "--role", "reader")).as("running it again is harmless").isZero();
    assertThat(out).endsWith("granted to role reader\n");
    assertThat(POSTGRES.server().psql(db, "SELECT has_function_privilege('reader', 'feedline_capture.ddl_committed_before(pg_lsn, bigint[], name)', "
        + "'EXECUTE')").strip()).isEqualTo("t");
  }

  @Test
  void badInputIsExitTwoWithOneLine() {
    assertThat(setup("--source", "datagen://?tables=3")).isEqualTo(2);
    assertThat(err).isEqualTo("feedline source setup: only a postgresql source needs a set-up; datagen sources are ready as they are\n");
    assertThat(setup("--source", "postgresql://127.0.0.1/db")).isEqualTo(2);
    assertThat(err).contains("needs a user").hasLineCount(1);
  }

  private static String installed(String db) {
    return POSTGRES.server().psql(db, "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'feedline%'").strip();
  }

  private int setup(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(o));
    cli.setErr(new PrintWriter(e));
    List<String> all = new ArrayList<>(List.of("source", "setup"));
    all.addAll(List.of(args));
    int code = cli.execute(all.toArray(String[]::new));
    out = o.toString();
    err = e.toString();
    return code;
  }
}
