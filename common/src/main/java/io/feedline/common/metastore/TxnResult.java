package io.feedline.common.metastore;

import java.util.List;
import java.util.Optional;

/**
 * Outcome of a {@link Txn}: which branch ran, the store revision after it, and for every
 * {@link Txn.Op.Get} of that branch, in order, the key's value (empty when absent).
 */
public record TxnResult(boolean succeeded, long revision, List<Optional<KeyValue>> gets) {}
