import { Group } from "./group.ts";
import type { GroupOptions } from "./options.ts";

/** Registry holds named groups: an object, so that every server (and every test) has its own. */
export class Registry {
  readonly #groups = new Map<string, Group>();

  /** add registers a group (or builds one from options); a second group of the same name is an error. */
  add(group: Group | GroupOptions): Group {
    const g = group instanceof Group ? group : new Group(group);
    if (this.#groups.has(g.name)) throw new Error(`Registry: a group named ${JSON.stringify(g.name)} already exists`);
    this.#groups.set(g.name, g);
    return g;
  }

  /** get returns the group named name, or undefined. */
  get(name: string): Group | undefined {
    return this.#groups.get(name);
  }

  /** first returns the group registered first (the API's default), or undefined. */
  first(): Group | undefined {
    return this.#groups.values().next().value;
  }

  /** names lists the groups in registration order. */
  names(): string[] {
    return [...this.#groups.keys()];
  }

  /** groups lists the groups in registration order. */
  groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** evictions counts the values every group's main and hot caches have evicted. */
  evictions(): number {
    return this.groups().reduce((n, g) => {
      const c = g.cacheStats();
      return n + c.main.evictions + c.hot.evictions;
    }, 0);
  }
}
