// The dimensions the dashboard and the alarms query, with their values. They must be a set the
// exporter actually publishes, or the widgets stay empty: the FIRST configured set, then the
// tag and static names (the order and de-duplication the binary uses).
import { ResolvedSettings, extraDimensionNames } from "./settings";

/** [name, value] pairs in publishing order. */
export type DimensionPairs = readonly (readonly [string, string])[];

export type DimensionLevel = "task" | "container";

function firstSetNames(settings: ResolvedSettings, level: DimensionLevel): string[] {
  const sets = level === "task" ? settings.dimensions : settings.containerDimensions;
  const names = [...new Set(sets[0] ?? [])];
  for (const extra of extraDimensionNames(settings)) {
    if (!names.includes(extra)) {
      names.push(extra);
    }
  }
  return names;
}

/** True when container lines differ per container, i.e. the first container set names it. */
export function containerSetNamesContainer(settings: ResolvedSettings): boolean {
  return firstSetNames(settings, "container").includes("ContainerName");
}

/**
 * Values come from staticDimensions for static names, from containerName for ContainerName,
 * and from dimensionValues for everything else; a missing one is a synth-time error.
 */
export function dimensionPairs(
  settings: ResolvedSettings,
  dimensionValues: Readonly<Record<string, string>>,
  level: DimensionLevel,
  containerName?: string,
): DimensionPairs {
  const statics = new Map(settings.staticDimensions);
  return firstSetNames(settings, level).map((name): [string, string] => {
    const value =
      statics.get(name) ??
      (name === "ContainerName" ? containerName : Object.prototype.hasOwnProperty.call(dimensionValues, name) ? dimensionValues[name] : undefined);
    if (value === undefined) {
      const from = name === "ContainerName" ? "dashboard.containerNames" : "dashboard.dimensionValues (or the metric options' dimensionValues)";
      throw new Error(`ecs-emf-exporter: the dashboard and alarms need a value for dimension "${name}" (${level} level); add it to ${from}`);
    }
    return [name, value];
  });
}

/** The same pairs as the {name: value} map a cloudwatch.Metric takes. */
export function dimensionsMap(pairs: DimensionPairs): Record<string, string> {
  return Object.fromEntries(pairs);
}
