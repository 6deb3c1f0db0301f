-- Purchases of one caller that are ready at the same moment are recorded by one statement
-- (src/db/purchase-statements.ts): the caller's spend lock is then taken, and the statement
-- committed, once for all of them instead of once each.

-- The daily spend limits of a caller for the orders p_orders, recorded in the same statement,
-- whose amounts add up to p_amount. As spend_check: the caller's advisory lock (held until the
-- statement's transaction ends), then the caller's other orders of the day counted with a
-- snapshot taken after it, the new orders added to the counts rather than read. Fails with
-- SL001 (count) or SL002 (amount) when the orders together pass a limit; DETAIL holds the
-- caller's count and amount before them. The service then records each order on its own, so
-- that exactly the ones within the limits pass.
CREATE FUNCTION "spend_check_batch" (p_caller TEXT, p_since TIMESTAMPTZ, p_orders UUID[], p_amount NUMERIC, p_max_count BIGINT, p_max_amount NUMERIC)
RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_count BIGINT;
  v_amount NUMERIC;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('spend:' || p_caller));
  SELECT count(*), coalesce(sum(o.amount), 0) INTO v_count, v_amount
  FROM "certificate_order" o
  WHERE o.caller = p_caller AND o.created_at >= p_since AND o.id <> ALL (p_orders)
    AND NOT (o.status = 'failed' AND o.enom_cert_id IS NULL);
  IF v_count + cardinality(p_orders) > p_max_count THEN
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

-- spend_check (one order) stays for instances of the version before during a rolling deploy; it
-- is now the batch check of one order, so that the rule has one definition.
CREATE OR REPLACE FUNCTION "spend_check" (p_caller TEXT, p_since TIMESTAMPTZ, p_order UUID, p_amount NUMERIC, p_max_count BIGINT, p_max_amount NUMERIC)
RETURNS BOOLEAN LANGUAGE sql VOLATILE AS $$
  SELECT "spend_check_batch"(p_caller, p_since, ARRAY[p_order], p_amount, p_max_count, p_max_amount)
$$;
