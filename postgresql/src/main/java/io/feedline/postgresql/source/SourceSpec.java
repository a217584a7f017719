package io.feedline.postgresql.source;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.postgresql.connect.PostgresEndpoint;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A parsed source URI {@code postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?publication=P&tables=RULES
 * &sslmode=&sslrootcert=&passwordFile=]} and the names Feedline gives what it keeps upstream for a
 * changefeed.
 *
 * @param publication the user's publication, or null: Feedline then creates and owns one for the changefeed
 */
record SourceSpec(PostgresEndpoint endpoint, String publication, TableRules tables) {

  /** The longest stretch of a changefeed id a slot name keeps (slot names have at most 63 characters). */
  private static final int ID_CHARS = 36;

  static SourceSpec parse(EndpointUri uri, Map<String, String> env) {
    PostgresEndpoint endpoint = PostgresEndpoint.parse("source", uri, env);
    String publication = uri.params().get("publication");
    if (publication != null && publication.isBlank()) {
      throw new InvalidEndpointException("source URI '" + uri + "': publication must not be empty (leave it out and Feedline creates one)");
    }
    TableRules rules;
    try {
      rules = TableRules.parse(uri.params().get("tables"));
    } catch (InvalidEndpointException e) {
      throw new InvalidEndpointException("source URI '" + uri + "': " + e.getMessage());
    }
    return new SourceSpec(endpoint, publication, rules);
  }

  boolean ownsPublication() {
    return publication == null;
  }

  /** The publication the changefeed reads: the user's, or the one Feedline owns. */
  String publicationFor(String changefeed) {
    return publication != null ? publication : objectName(changefeed);
  }

  /**
   * The changefeed's anchor slot: never read, only advanced to the changefeed's persisted checkpoint, so
   * the upstream keeps exactly the WAL the changefeed may still need; each node's stream reads a
   * temporary copy of it (see {@link ReplicationReader}).
   */
  static String anchorSlot(String changefeed) {
    return objectName(changefeed);
  }

  /**
   * {@code feedline_<id>_<crc>}: slot and publication names allow lower-case letters, digits and
   * {@code _}; the checksum keeps ids that differ only in other characters (or past the kept stretch) apart.
   */
  static String objectName(String changefeed) {
    String id = changefeed.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    CRC32 crc = new CRC32();
    crc.update(changefeed.getBytes(StandardCharsets.UTF_8));
    return "feedline_" + (id.length() > ID_CHARS ? id.substring(0, ID_CHARS) : id) + "_" + String.format("%08x", crc.getValue());
  }
}
