-- A caller's orders of the day, counted for the daily spend limits (src/domain/orders/placement.ts).
-- It runs in the transaction that records a new order, after the order's INSERT: it first takes
-- the caller's advisory lock (held until that transaction ends), then counts with a snapshot taken
-- after the lock, so that concurrent orders of one caller each see the ones committed before them.
-- Orders that failed without a certificate bought nothing and do not count.
CREATE FUNCTION "spend_today" (p_caller TEXT, p_since TIMESTAMPTZ, OUT order_count BIGINT, OUT amount NUMERIC)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('spend:' || p_caller));
  SELECT count(*), coalesce(sum(o.amount), 0) INTO order_count, amount
  FROM "certificate_order" o
  WHERE o.caller = p_caller AND o.created_at >= p_since AND NOT (o.status = 'failed' AND o.enom_cert_id IS NULL);
END
$$;
