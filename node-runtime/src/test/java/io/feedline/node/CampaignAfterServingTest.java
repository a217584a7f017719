package io.feedline.node;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.proto.NodeRegistration;
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
class CampaignAfterServingTest {

  @Test
  void theCampaignKeyIsWrittenOnlyAfterTheRegistrationSaysServing() throws Exception {
    String clusterId = "campaign" + UUID.randomUUID().toString().substring(0, 8);
    MetaKeys keys = new MetaKeys(clusterId);
    try (EtcdServer etcd = EtcdServer.start(); Client operator = Client.builder().endpoints(etcd.endpoint()).build()) {
      NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "campaign", clusterId), List.of(etcd.endpoint()), false,
          clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1", Timings.DEFAULTS);
      NodeRuntime node = await(NodeRuntime.start(config), Await.NODE_START);
      try {
        Await.until("a coordinator elected", () -> !read(operator, keys.coordinatorElection(), true, 0).isEmpty());
        KeyValue campaign = read(operator, keys.coordinatorElection(), true, 0).get(0);
        // The node's registration as it stood just before the campaign key was created (etcd keeps the history).
        List<KeyValue> before = read(operator, keys.node(node.nodeId()), false, campaign.getCreateRevision() - 1);
        assertThat(before).as("registered before campaigning").hasSize(1);
        assertThat(NodeRegistration.parseFrom(before.get(0).getValue().getBytes()).getServing())
            .as("its admin API served before it campaigned").isTrue();
      } finally {
        await(node.stop(), Await.NODE_START);
      }
    }
  }

  private static List<KeyValue> read(Client client, String key, boolean prefix, long revision) {
    GetOption.Builder option = GetOption.builder().isPrefix(prefix);
    if (revision > 0) {
      option.withRevision(revision);
    }
    try {
      return client.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8), option.build()).get(10, TimeUnit.SECONDS).getKvs();
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + key + " from etcd", e);
    }
  }
}
