package io.feedline.dispatcher.dispatcher;

import io.feedline.common.id.DispatcherKey;
import io.feedline.proto.TableSpan;

/** What a dispatcher replicates: its span, from {@code startTs} (exclusive), to the downstream or the redo log. */
public record DispatcherSpec(DispatcherKey ref, TableSpan span, long startTs, boolean redo) {}
