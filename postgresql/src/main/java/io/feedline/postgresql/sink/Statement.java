package io.feedline.postgresql.sink;

import io.vertx.sqlclient.Tuple;

/** One SQL statement of a batch's transaction, with its parameters. */
record Statement(String sql, Tuple params) {

  static Statement of(String sql) {
    return new Statement(sql, Tuple.tuple());
  }
}
