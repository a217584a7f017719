package io.feedline.common.messaging;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.feedline.proto.FenceToken;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link FenceToken} of a control payload, read from the fields every fenced message already has: a changefeed's
 * messages carry {@code changefeed_id} and {@code epoch}; a coordinator's commands {@code election_version}; a node's
 * reports {@code node_epoch}. A payload with none of them (a heartbeat listing many changefeeds) has the empty token.
 * A coordinator's command also carries its {@code election_version} in the token's own field, whatever else it is
 * about, so a receiver can fence it by coordinator and by changefeed.
 */
public final class FenceTokens {

  private record Fields(FieldDescriptor changefeed, FieldDescriptor epoch, FieldDescriptor electionVersion) {}

  private static final Map<Descriptor, Fields> FIELDS = new ConcurrentHashMap<>();

  private FenceTokens() {}

  public static FenceToken of(Message payload) {
    Fields f = FIELDS.computeIfAbsent(payload.getDescriptorForType(), FenceTokens::fields);
    FenceToken.Builder token = FenceToken.newBuilder();
    if (f.epoch() != null) {
      token.setEpoch((Long) payload.getField(f.epoch()));
    }
    if (f.changefeed() != null) {
      token.setChangefeedId((String) payload.getField(f.changefeed()));
    }
    if (f.electionVersion() != null) {
      token.setElectionVersion((Long) payload.getField(f.electionVersion()));
    }
    return token.build();
  }

  private static Fields fields(Descriptor type) {
    FieldDescriptor changefeed = type.findFieldByName("changefeed_id");
    FieldDescriptor epoch = type.findFieldByName("epoch");
    FieldDescriptor electionVersion = type.findFieldByName("election_version");
    if (changefeed != null && epoch != null) {
      return new Fields(changefeed, epoch, electionVersion);
    }
    FieldDescriptor roleEpoch = electionVersion != null ? electionVersion : type.findFieldByName("node_epoch");
    return new Fields(null, roleEpoch, electionVersion);
  }
}
