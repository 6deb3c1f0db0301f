-- A purchase is recorded by one statement (src/db/purchase-statements.ts, insertPurchase): the order,
-- the service's lock, the idempotency key naming the order, the attempt, the order.created event,
-- and the checks that must hold before any of it commits. Without a transaction around it, a
-- check that fails must fail inside PostgreSQL; these are those checks.

-- The daily spend limits of a caller, for the order p_order of p_amount being recorded in the
-- same statement. It takes the caller's advisory lock (held until the statement's transaction
-- ends) and then counts the caller's other orders of the day with a snapshot taken after the lock
-- (a VOLATILE function takes one per query), so that concurrent orders of one caller each see the
-- ones committed before them. The order itself is added to the counts, not read: whether the
-- statement's own insert is visible here is not something to depend on. Orders that failed
-- without a certificate bought nothing and do not count (as in spend_today).
-- SQLSTATE SL001: the count limit; SL002: the amount limit. DETAIL holds the caller's count and
-- amount before this order as JSON, for the message the service builds.
CREATE FUNCTION "spend_check" (p_caller TEXT, p_since TIMESTAMPTZ, p_order UUID, p_amount NUMERIC, p_max_count BIGINT, p_max_amount NUMERIC)
RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_count BIGINT;
  v_amount NUMERIC;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('spend:' || p_caller));
  SELECT count(*), coalesce(sum(o.amount), 0) INTO v_count, v_amount
  FROM "certificate_order" o
  WHERE o.caller = p_caller AND o.created_at >= p_since AND o.id <> p_order
    AND NOT (o.status = 'failed' AND o.enom_cert_id IS NULL);
  IF v_count + 1 > p_max_count THEN
    RAISE EXCEPTION 'daily order count limit reached' USING ERRCODE = 'SL001',
      DETAIL = json_build_object('count', v_count, 'amount', v_amount::numeric(14, 2)::text)::text;
  END IF;
  IF v_amount + p_amount > p_max_amount THEN
    RAISE EXCEPTION 'daily order amount limit reached' USING ERRCODE = 'SL002',
      DETAIL = json_build_object('count', v_count, 'amount', v_amount::numeric(14, 2)::text)::text;
  END IF;
  RETURN TRUE;
END
$$;

-- Fails the statement (SQLSTATE SL003, the message given) unless p_ok is true.
CREATE FUNCTION "must_hold" (p_ok BOOLEAN, p_message TEXT)
RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF p_ok IS NOT TRUE THEN
    RAISE EXCEPTION '%', p_message USING ERRCODE = 'SL003';
  END IF;
  RETURN TRUE;
END
$$;

-- spend_check replaces it (the count of a separate statement in the purchase's transaction).
DROP FUNCTION "spend_today" (TEXT, TIMESTAMPTZ);
