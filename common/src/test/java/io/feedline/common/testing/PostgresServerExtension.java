package io.feedline.common.testing;

import java.util.Objects;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link PostgresServer} per test class ({@code @RegisterExtension static}): started before the class's
 * first test (and before its own {@code @BeforeAll}), stopped after its last, also when a test fails.
 */
public final class PostgresServerExtension implements BeforeAllCallback, AfterAllCallback {

  private final String[] settings;
  private PostgresServer server;

  /** @param settings server settings, as {@link PostgresServer#start} takes them */
  public PostgresServerExtension(String... settings) {
    this.settings = settings.clone();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server = PostgresServer.start(settings);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (server != null) {
      server.stop();
      server = null;
    }
  }

  /** The running server; only between the class's first and last test. */
  public PostgresServer server() {
    return Objects.requireNonNull(server, "PostgreSQL is not started: register the extension as a static field");
  }
}
