package io.feedline.common.config;

/**
 * How a node runs its data plane.
 *
 * @param memoryQuotaBytes the most bytes of change events the node holds between reading them and the
 *     sink's acknowledgement ({@code dataplane.memory-quota}); its changefeeds share it equally
 * @param threads the data lanes, one thread each ({@code dataplane.threads})
 */
public record DataPlaneSettings(long memoryQuotaBytes, int threads) {

  /** The quota when none is set: a quarter of the heap, at most 1 GiB (TiCDC's per-changefeed default). */
  public static long defaultMemoryQuota() {
    return Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 4);
  }

  /** One lane per core. */
  public static int defaultThreads() {
    return Runtime.getRuntime().availableProcessors();
  }

  public static final DataPlaneSettings DEFAULTS = new DataPlaneSettings(defaultMemoryQuota(), defaultThreads());

  public DataPlaneSettings {
    if (memoryQuotaBytes < 1 << 20) {
      throw new IllegalArgumentException("dataplane.memory-quota must be at least 1MiB, got " + memoryQuotaBytes + " bytes");
    }
    if (threads < 1 || threads > 256) {
      throw new IllegalArgumentException("dataplane.threads must be within 1..256, got " + threads);
    }
  }
}
