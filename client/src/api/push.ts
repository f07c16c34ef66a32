// Web Push: the server's VAPID key and this browser's subscription.
import { api } from './http';
import type { PushKey, PushSubscriptionRequest, PushUnsubscribeRequest } from './types';

export const pushApi = api.injectEndpoints({
  endpoints: (build) => ({
    pushKey: build.query<PushKey, void>({
      query: () => '/api/push/key',
    }),
    pushSubscribe: build.mutation<void, PushSubscriptionRequest>({
      query: (body) => ({ url: '/api/push/subscriptions', method: 'POST', body }),
    }),
    pushUnsubscribe: build.mutation<void, PushUnsubscribeRequest>({
      query: (body) => ({ url: '/api/push/subscriptions', method: 'DELETE', body }),
    }),
  }),
});
