import { v7 as uuidv7 } from 'uuid';

/** Every primary key is a UUIDv7: unique without coordination and ordered by creation time (cursor pagination). */
export const newId = (): string => uuidv7();
