package io.feedline.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.testing.Eventually;
import io.feedline.proto.NodeRegistration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A node campaigns for coordinator only once its admin API serves: a coordinator elected earlier could not
 * be reached by the requests other nodes forward to it, and creates failed until it could (issue 19).
 */
// A node's start may take long on a loaded machine through no fault of the code under test.
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class CampaignAfterServingTest extends NodeOnEtcd {

  private NodeRuntime node;

  @Test
  void theCampaignKeyIsWrittenOnlyAfterTheRegistrationSaysServing(Vertx vertx, VertxTestContext ctx) {
    String clusterId = "campaign" + UUID.randomUUID().toString().substring(0, 8);
    MetaKeys keys = new MetaKeys(clusterId);
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "campaign", clusterId), List.of(etcd.endpoint()), false,
        clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1", Timings.DEFAULTS);
    (starting = NodeRuntime.start(config))
        .compose(started -> {
          node = started;
          return Eventually.untilAsync(vertx, "a coordinator elected", () -> read(keys.coordinatorElection(), true, 0), kvs -> !kvs.isEmpty());
        })
        // The node's registration as it stood just before the campaign key was created (etcd keeps the history).
        .compose(campaign -> read(keys.node(node.nodeId()), false, campaign.get(0).getCreateRevision() - 1))
        .onComplete(ctx.succeeding(before -> ctx.verify(() -> {
          assertThat(before).as("registered before campaigning").hasSize(1);
          assertThat(NodeRegistration.parseFrom(before.get(0).getValue().getBytes()).getServing())
              .as("its admin API served before it campaigned").isTrue();
          ctx.completeNow();
        })));
  }

  private Future<List<KeyValue>> read(String key, boolean prefix, long revision) {
    GetOption.Builder option = GetOption.builder().isPrefix(prefix);
    if (revision > 0) {
      option.withRevision(revision);
    }
    return Future.fromCompletionStage(operator.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8), option.build()))
        .map(GetResponse::getKvs);
  }
}
