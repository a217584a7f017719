package io.feedline.dispatcher.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.sink.blackhole.BlackholeSink;
import io.feedline.dispatcher.sink.file.FileSink;
import io.feedline.dispatcher.source.datagen.DatagenSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(VertxExtension.class)
class ProviderEndpointsTest {

  private final ProviderEndpoints endpoints = new ProviderEndpoints();
  private EndpointContext context;

  @BeforeEach
  void setUp(Vertx vertx) {
    context = new EndpointContext(vertx, new ManualScheduler(0), new SimpleMeterRegistry());
  }

  private static <T> Throwable failure(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().handle((ok, err) -> err).get(10, TimeUnit.SECONDS);
  }

  @Test
  void choosesProvidersByScheme(@TempDir Path dir) throws Exception {
    assertThat(endpoints.openSource("datagen://?tables=100&seed=7", context).toCompletionStage().toCompletableFuture().get())
        .isInstanceOf(DatagenSource.class);
    assertThat(endpoints.openSink("blackhole://", context).toCompletionStage().toCompletableFuture().get()).isInstanceOf(BlackholeSink.class);
    Path out = dir.resolve("nested/out");
    assertThat(endpoints.openSink("file://" + out, context).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isInstanceOf(FileSink.class);
    assertThat(Files.isDirectory(out.resolve("checkpoints"))).isTrue();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "sink|mysql://root:hunter2@db/x|unknown sink scheme 'mysql'",
      "sink|blackhole://somewhere|takes no host",
      "sink|blackhole://?pass=hunter2|unknown parameter 'pass'",
      "sink|file://|needs an absolute directory",
      "sink|file://remote:hunter2@host/dir|writes local files",
      "sink|''|URI is empty",
      "source|datagen://|needs tables=N",
      "source|datagen://?tables=0|tables must be within",
      "source|datagen://?tables=x|tables must be a whole number",
      "source|datagen://?tables=3&rate=-1|rate must be within",
      "source|datagen://?tables=3&speed=1|unknown parameter 'speed'",
      "source|datagen://host?tables=3|only query parameters",
      "source|kafka://u:hunter2@k/t|unknown source scheme 'kafka'",
  })
  void badUrisFailTheFutureWithAClearRedactedMessage(String kind, String uri, String message) throws Exception {
    Throwable err = kind.equals("sink") ? failure(endpoints.openSink(uri, context)) : failure(endpoints.openSource(uri, context));
    assertThat(err).isInstanceOf(InvalidEndpointException.class).hasMessageContaining(message);
    assertThat(err.getMessage()).doesNotContain("hunter2");
  }
}
