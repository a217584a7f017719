package io.feedline.common.metastore;

import java.util.ArrayList;
import java.util.List;

/** An etcd-style transaction: compares, then the success or the failure branch. */
public record Txn(List<Compare> compares, List<Op> success, List<Op> failure) {

  public Txn {
    compares = List.copyOf(compares);
    success = List.copyOf(success);
    failure = List.copyOf(failure);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A compare against a key's revision metadata; all compares are equality checks. */
  public record Compare(String key, Target target, long expected) {
    public enum Target {
      MOD_REVISION,
      CREATE_REVISION,
      VERSION
    }

    public static Compare modRevision(String key, long expected) {
      return new Compare(key, Target.MOD_REVISION, expected);
    }

    public static Compare createRevision(String key, long expected) {
      return new Compare(key, Target.CREATE_REVISION, expected);
    }

    /** The key does not exist. */
    public static Compare absent(String key) {
      return createRevision(key, 0);
    }
  }

  public sealed interface Op permits Op.Put, Op.Delete, Op.Get {
    record Put(String key, byte[] value, long leaseId) implements Op {}

    record Delete(String key) implements Op {}

    record Get(String key) implements Op {}

    static Op put(String key, byte[] value) {
      return new Put(key, value, 0L);
    }

    static Op delete(String key) {
      return new Delete(key);
    }

    static Op get(String key) {
      return new Get(key);
    }
  }

  public static final class Builder {
    private final List<Compare> compares = new ArrayList<>();
    private final List<Op> success = new ArrayList<>();
    private final List<Op> failure = new ArrayList<>();

    public Builder when(Compare c) {
      compares.add(c);
      return this;
    }

    public Builder then(Op op) {
      success.add(op);
      return this;
    }

    public Builder otherwise(Op op) {
      failure.add(op);
      return this;
    }

    public Txn build() {
      return new Txn(compares, success, failure);
    }
  }
}
