import type { Tick } from '../../features/chat/conversation';
import { AlertIcon, CheckIcon, ClockIcon, DoubleCheckIcon } from '../icons';

const LABEL: Record<Tick, string> = {
  pending: 'Sending',
  failed: 'Not sent',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};

/**
 * The status of one of my messages, as an icon with an accessible name. Read differs from
 * delivered by shape, not by colour alone: its ticks sit in a filled pill (white on the blue
 * bubble, green in the list), where delivered ones are bare.
 */
export function Ticks({ tick, onBubble = false }: { tick: Tick; onBubble?: boolean }) {
  const tone =
    tick === 'read'
      ? `rounded-full px-1 py-px [&_path]:stroke-[2.2] ${onBubble ? 'bg-white text-blue-700' : 'bg-emerald-600 text-white dark:bg-emerald-500'}`
      : tick === 'failed'
        ? onBubble
          ? 'text-rose-200'
          : 'text-rose-500'
        : onBubble
          ? 'text-white/70'
          : 'text-slate-400';
  return (
    <span role="img" aria-label={LABEL[tick]} title={LABEL[tick]} data-tick={tick} className={`inline-flex items-center ${tone}`}>
      {tick === 'pending' && <ClockIcon className="h-3 w-3" />}
      {tick === 'failed' && <AlertIcon className="h-3.5 w-3.5" />}
      {tick === 'sent' && <CheckIcon />}
      {(tick === 'delivered' || tick === 'read') && <DoubleCheckIcon />}
    </span>
  );
}
