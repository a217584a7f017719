package io.feedline.common.metastore;

import java.nio.charset.StandardCharsets;

/** One stored key with etcd-style revision metadata. */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision, long version, long lease) {

  public String valueAsString() {
    return new String(value, StandardCharsets.UTF_8);
  }
}
