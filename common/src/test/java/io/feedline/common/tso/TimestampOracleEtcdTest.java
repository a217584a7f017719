package io.feedline.common.tso;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.EtcdServer;
import io.feedline.common.testing.ManualClock;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The oracle over etcd: the window's compare-and-set and its persistence work there as well. */
class TimestampOracleEtcdTest {

  private EtcdServer etcd;
  private Vertx vertx;

  @BeforeEach
  void startEtcd() {
    etcd = EtcdServer.start();
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stopEtcd() {
    await(vertx.close());
    etcd.stop();
  }

  @Test
  void staysMonotonicAcrossAServerRestartWithTheClockSetBack() {
    ManualClock clock = new ManualClock(Instant.parse("2026-03-01T12:00:00Z"));
    MetaStore first = MetaStores.etcd(vertx, List.of(etcd.endpoint()));
    TimestampOracle before = await(TimestampOracle.start(first, "/tso", clock, Duration.ofSeconds(3)));
    long last = 0;
    for (int i = 0; i < 100; i++) {
      last = await(before.next());
    }
    await(first.close());

    clock.rewind(Duration.ofHours(1));
    MetaStore second = MetaStores.etcd(vertx, List.of(etcd.endpoint()));
    TimestampOracle after = await(TimestampOracle.start(second, "/tso", clock, Duration.ofSeconds(3)));
    assertThat(await(after.next())).isGreaterThan(last);
    await(second.close());
  }
}
