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
 *
 * <p>A coordinator's command about a changefeed (an add, a remove) is fenced twice: by the coordinator a node obeys,
 * then by the changefeed's epoch. Its token is the changefeed's; the election version is read from the payload
 * ({@link #electionVersion}), not added to the token: the token's shape is on the wire, and nodes of the version
 * before must keep understanding each other's during a rolling upgrade.
 */
public final class FenceTokens {

  private record Fields(FieldDescriptor changefeed, FieldDescriptor epoch, FieldDescriptor electionVersion) {}

  private static final Map<Descriptor, Fields> FIELDS = new ConcurrentHashMap<>();

  private FenceTokens() {}

  public static FenceToken of(Message payload) {
    Fields f = fields(payload);
    FenceToken.Builder token = FenceToken.newBuilder();
    if (f.epoch() != null) {
      token.setEpoch((Long) payload.getField(f.epoch()));
    }
    if (f.changefeed() != null) {
      token.setChangefeedId((String) payload.getField(f.changefeed()));
    }
    return token.build();
  }

  /** The coordinator term a coordinator's command was sent in; 0 for a payload that has none. */
  public static long electionVersion(Message payload) {
    FieldDescriptor field = fields(payload).electionVersion();
    return field == null ? 0 : (Long) payload.getField(field);
  }

  private static Fields fields(Message payload) {
    return FIELDS.computeIfAbsent(payload.getDescriptorForType(), FenceTokens::fields);
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
