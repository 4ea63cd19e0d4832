/**
 * Slot tags as the test apps derive them (every test app signs with TEST_SECRET), for tests that
 * build session refs themselves or look at Redis keys of a user.
 */
import { UserSlotTags, type UserRef } from '../../src/core/session-token.js';
import { TEST_SECRET } from './test-app.js';

const TEST_TAGS = new UserSlotTags([TEST_SECRET]);

/** The user as stores know them: id and slot tag. */
export function ownerOf(userId: string | number): UserRef {
  return TEST_TAGS.current(String(userId));
}

export function slotTagOf(userId: string | number): string {
  return ownerOf(userId).tag;
}
