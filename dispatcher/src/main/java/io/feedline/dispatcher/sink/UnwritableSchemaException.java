package io.feedline.dispatcher.sink;

/**
 * The sink cannot write a table as the upstream defines it: no primary key (its rows could not be replayed
 * idempotently), a type it cannot map, or a downstream table that does not fit. Retrying the write fails
 * the same way until someone changes a schema, so the changefeed reports it as its error.
 */
public final class UnwritableSchemaException extends IllegalStateException {

  public UnwritableSchemaException(String message) {
    super(message);
  }
}
