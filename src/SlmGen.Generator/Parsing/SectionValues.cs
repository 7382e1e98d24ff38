using System;
using System.Collections.Generic;
using System.Globalization;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Parsing;

/// <summary>
/// The values one front-end read for one section of a spec, by setting (<see cref="SettingsTable"/>); a setting that
/// was not written has the table's default. Both front-ends fill one of these and hand it to <see cref="SpecBinding"/>,
/// which is the one place a section's settings become its spec record.
/// </summary>
internal sealed class SectionValues
{
    private readonly Dictionary<Setting, object> values = new();

    public void Set(Setting setting, object value) => values[setting] = value;

    /// <summary>The value as read (null when the setting was not written).</summary>
    public object? Raw(Setting s) => values.TryGetValue(s, out var v) ? v : null;

    public int Int(Setting s) => Convert.ToInt32(values.TryGetValue(s, out var v) ? v : s.AttributeDefault, CultureInfo.InvariantCulture);

    public long Long(Setting s) => Convert.ToInt64(values.TryGetValue(s, out var v) ? v : s.AttributeDefault, CultureInfo.InvariantCulture);

    public double Double(Setting s) => Convert.ToDouble(values.TryGetValue(s, out var v) ? v : s.AttributeDefault, CultureInfo.InvariantCulture);

    public bool Bool(Setting s) => values.TryGetValue(s, out var v) ? (bool)v : (bool)s.AttributeDefault!;

    public EquatableArray<int> Ints(Setting s) => values.TryGetValue(s, out var v) ? (EquatableArray<int>)v : EquatableArray<int>.Empty;

    public EquatableArray<double> Doubles(Setting s) => values.TryGetValue(s, out var v) ? (EquatableArray<double>)v : EquatableArray<double>.Empty;
}
