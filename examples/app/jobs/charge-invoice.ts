import { defineJob } from 'jobsmith';
import { z } from 'zod';

/** Fails every attempt: after its two tries it ends in failed jobs and failed() runs once. */
export const chargeInvoice = defineJob({
  name: 'invoice.charge',
  queue: 'billing',
  schema: z.object({ invoiceId: z.number().int(), amountCents: z.number().int().positive() }),
  tries: 2,
  backoff: [1],
  unique: { key: (p) => `invoice:${p.invoiceId}`, for: 3600 },
  async handle(payload) {
    throw new Error(`Card declined for invoice ${payload.invoiceId} (demo: always fails)`);
  },
  async failed(payload, error, ctx) {
    ctx.log.warn('invoice could not be charged; tell the customer', {
      invoiceId: payload.invoiceId,
      error: error.message,
    });
  },
});
