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
 */
public final class FenceTokens {

  private record Fields(FieldDescriptor changefeed, FieldDescriptor epoch) {
    static final Fields NONE = new Fields(null, null);
  }

  private static final Map<Descriptor, Fields> FIELDS = new ConcurrentHashMap<>();

  private FenceTokens() {}

  public static FenceToken of(Message payload) {
    Fields f = FIELDS.computeIfAbsent(payload.getDescriptorForType(), FenceTokens::fields);
    if (f.epoch() == null) {
      return FenceToken.getDefaultInstance();
    }
    FenceToken.Builder token = FenceToken.newBuilder().setEpoch((Long) payload.getField(f.epoch()));
    if (f.changefeed() != null) {
      token.setChangefeedId((String) payload.getField(f.changefeed()));
    }
    return token.build();
  }

  private static Fields fields(Descriptor type) {
    FieldDescriptor changefeed = type.findFieldByName("changefeed_id");
    FieldDescriptor epoch = type.findFieldByName("epoch");
    if (changefeed != null && epoch != null) {
      return new Fields(changefeed, epoch);
    }
    for (String role : new String[] {"election_version", "node_epoch"}) {
      FieldDescriptor field = type.findFieldByName(role);
      if (field != null) {
        return new Fields(null, field);
      }
    }
    return Fields.NONE;
  }
}
