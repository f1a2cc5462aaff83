import { describe, expect, test } from "bun:test";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";

const getter = (key: string) => `v:${key}`;

describe("Registry", () => {
  test("an empty registry has no groups", () => {
    const r = new Registry();
    expect({ get: r.get("scores"), first: r.first(), names: r.names(), groups: r.groups() }).toEqual({
      get: undefined,
      first: undefined,
      names: [],
      groups: [],
    });
  });

  test("add takes a Group and returns it", () => {
    const r = new Registry();
    const g = new Group({ name: "scores", getter });
    expect(r.add(g)).toBe(g);
    expect(r.get("scores")).toBe(g);
  });

  test("add builds a Group from options", async () => {
    const r = new Registry();
    const g = r.add({ name: "scores", getter, cacheBytes: 1024 });
    expect(g).toBeInstanceOf(Group);
    expect({ name: g.name, cacheBytes: g.cacheBytes, same: r.get("scores") === g }).toEqual({
      name: "scores",
      cacheBytes: 1024,
      same: true,
    });
    expect((await g.get("k")).toString()).toBe("v:k");
  });

  test("add passes bad options through to the Group's checks", () => {
    expect(() => new Registry().add({ name: "", getter })).toThrow(TypeError);
  });

  test("get, first, names and groups keep registration order", () => {
    const r = new Registry();
    const b = r.add({ name: "b", getter });
    const a = r.add({ name: "a", getter });
    const c = r.add({ name: "c", getter });
    expect({ first: r.first(), names: r.names(), groups: r.groups(), a: r.get("a"), missing: r.get("d") }).toEqual({
      first: b,
      names: ["b", "a", "c"],
      groups: [b, a, c],
      a,
      missing: undefined,
    });
    expect(r.first()).toBe(b);
    expect(r.groups()[2]).toBe(c);
  });

  test.each<{ name: string; second: () => Group | { name: string; getter: typeof getter } }>([
    { name: "a Group", second: () => new Group({ name: "scores", getter }) },
    { name: "options", second: () => ({ name: "scores", getter }) },
  ])("a duplicate name throws ($name) and keeps the first group", ({ second }) => {
    const r = new Registry();
    const first = r.add({ name: "scores", getter });
    expect(() => r.add(second())).toThrow('a group named "scores" already exists');
    expect({ names: r.names(), same: r.get("scores") === first }).toEqual({ names: ["scores"], same: true });
  });

  test("two registries are independent", () => {
    const r1 = new Registry();
    const r2 = new Registry();
    const g1 = r1.add({ name: "scores", getter });
    const g2 = r2.add({ name: "scores", getter }); // no clash across registries
    r2.add({ name: "only-in-2", getter });
    expect({ n1: r1.names(), n2: r2.names(), distinct: g1 !== g2, missing: r1.get("only-in-2") }).toEqual({
      n1: ["scores"],
      n2: ["scores", "only-in-2"],
      distinct: true,
      missing: undefined,
    });
    expect(r1.get("scores")).toBe(g1);
    expect(r2.get("scores")).toBe(g2);
  });

  test("names() and groups() return copies", () => {
    const r = new Registry();
    r.add({ name: "a", getter });
    r.names().push("x");
    r.groups().length = 0;
    expect({ names: r.names(), count: r.groups().length }).toEqual({ names: ["a"], count: 1 });
  });
});
