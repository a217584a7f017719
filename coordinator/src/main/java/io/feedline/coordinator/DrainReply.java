package io.feedline.coordinator;

/** The answer to a drain request: what is left, or that this coordinator must hand over its leadership first. */
public record DrainReply(long remaining, boolean resignFirst) {}
