-- Purchases on one eNom account no longer take turns: unknown outcomes are judged together
-- (src/domain/orders/reconcile.ts), so the per-account lease is gone.
DROP TABLE "account_lease";
