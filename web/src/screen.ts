/**
 * Every screen: its title becomes the document's title ("Checkout · couchtour.tv"), and focus
 * moves to its heading when it appears, so a screen-reader user hears where they are and the
 * next Tab starts at the top of the new screen.
 */

import { type RefObject, useEffect, useRef } from 'react';

export const SITE = 'couchtour.tv';

export function useScreen(title: string, focus = true): RefObject<HTMLHeadingElement | null> {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ${SITE}`;
  }, [title]);
  useEffect(() => {
    if (focus) heading.current?.focus({ preventScroll: false });
  }, [title, focus]);
  return heading;
}

/**
 * Keep keyboard focus when the pressed control is replaced by another (Add to cart -> the
 * quantity stepper, Make default -> the "Default" badge, ...): after the next render, focus the
 * element with this id, if it exists.
 */
export function focusSoon(id: string): void {
  requestAnimationFrame(() => document.getElementById(id)?.focus());
}
