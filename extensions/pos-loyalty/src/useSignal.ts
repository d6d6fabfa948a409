import {useEffect, useState} from 'preact/hooks';

import type {SignalLike} from './loyalty';

/** The signal's current value, following its changes (the cart gains a customer, a line). */
export function useSignal<T>(signal: SignalLike<T>): T {
  const [value, setValue] = useState(signal.value);
  useEffect(() => signal.subscribe(setValue), [signal]);
  return value;
}
