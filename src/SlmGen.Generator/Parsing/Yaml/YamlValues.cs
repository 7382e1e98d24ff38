using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Generator.Parsing.Yaml;

/// <summary>
/// Typed values from YAML nodes. Each read records in the spec builder that the setting was written and
/// where (so that validation points at the node), and reports a wrong type at the node.
/// </summary>
internal sealed class YamlValues
{
    private readonly YamlContext context;
    private readonly SpecBuilder builder;

    public YamlValues(YamlContext context, SpecBuilder builder)
    {
        this.context = context;
        this.builder = builder;
    }

    /// <summary>The entries of a mapping whose keys the settings table allows for <paramref name="section"/>; unknown, repeated and non-scalar keys are reported.</summary>
    public IEnumerable<(string Key, YamlNode Value, YamlNode KeyNode)> Entries(YamlMappingNode map, string section, string where)
    {
        var allowed = SettingsTable.KeysOf(section);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in map.Children)
        {
            if (entry.Key is not YamlScalarNode { Value: { } name })
            {
                context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(entry.Key), where, "plain keys", YamlContext.Describe(entry.Key));
                continue;
            }

            if (!allowed.Contains(name))
            {
                context.Report(DiagnosticDescriptors.YamlUnknownKey, context.Location(entry.Key), YamlContext.Shorten(name), where, string.Join(", ", allowed), Suggestions.DidYouMean(name, allowed));
                continue;
            }

            if (!seen.Add(name))
            {
                context.Report(DiagnosticDescriptors.YamlSyntax, context.Location(entry.Key), $"the key '{name}' appears twice in {where}");
                continue;
            }

            yield return (name, entry.Value, entry.Key);
        }
    }

    /// <summary>A non-empty scalar's text, trimmed.</summary>
    public string? Text(YamlNode node, string where)
    {
        if (node is YamlScalarNode { Value: { Length: > 0 } value })
        {
            return value.Trim();
        }

        context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "a name", YamlContext.Describe(node));
        return null;
    }

    public int Int(YamlNode node, string where, string key)
    {
        var value = Long(node, where, key);
        if (value > int.MaxValue || value < int.MinValue)
        {
            context.Report(DiagnosticDescriptors.OutOfRange, context.Location(node), where, (node as YamlScalarNode)?.Value ?? value.ToString(System.Globalization.CultureInfo.InvariantCulture), $"at most {SettingsTable.MaxDimension:N0}");
            return 0;
        }

        return (int)value;
    }

    /// <summary>A list of whole numbers (one per block), recorded under <paramref name="key"/>.</summary>
    public EquatableArray<int> IntList(YamlSequenceNode node, string where, string key)
    {
        builder.Set(key, where, context.Location(node));
        var list = new List<int>();
        foreach (var item in node.Children)
        {
            list.Add(Int(item, where, key + "[]"));
        }

        return list.ToEquatableArray();
    }

    public long Long(YamlNode node, string where, string key)
    {
        builder.Set(key, where, context.Location(node));
        if (node is not YamlScalarNode { Value: { } text })
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "a whole number (128, 10_000, 12M)", YamlContext.Describe(node));
            return 0;
        }

        if (!HumanNumbers.TryParseWhole(text, out var value, out var problem))
        {
            if (problem == "too large")
            {
                context.Report(DiagnosticDescriptors.OutOfRange, context.Location(node), where, YamlContext.Shorten(text), "less than 9.2e18");
            }
            else
            {
                context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "a whole number (128, 10_000, 12M)", $"'{YamlContext.Shorten(text)}' ({problem})");
            }

            return 0;
        }

        return value;
    }

    public double Double(YamlNode node, string where, string key, string? textOverride = null)
    {
        builder.Set(key, where, context.Location(node));
        if (node is not YamlScalarNode { Value: { } text })
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "a number", YamlContext.Describe(node));
            return 0;
        }

        if (!HumanNumbers.TryParse(textOverride ?? text, out var value))
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "a number (0.1, 1e15, 4x for a multiplier)", $"'{YamlContext.Shorten(text)}'");
            return 0;
        }

        return value;
    }

    public bool Bool(YamlNode node, string where, string key)
    {
        builder.Set(key, where, context.Location(node));
        switch ((node as YamlScalarNode)?.Value?.Trim().ToLowerInvariant())
        {
            case "true":
            case "yes":
            case "on":
                return true;
            case "false":
            case "no":
            case "off":
                return false;
            default:
                context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "true or false", YamlContext.Describe(node));
                return false;
        }
    }

    public T Enum<T>(YamlNode node, string where, string what, (string Name, T Value)[] names, string key)
    {
        builder.Set(key, where, context.Location(node));
        var text = (node as YamlScalarNode)?.Value?.Trim();
        if (text is null)
        {
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), where, "a name (" + string.Join(", ", names.Select(n => n.Name).Distinct()) + ")", YamlContext.Describe(node));
            return names[0].Value;
        }

        foreach (var (name, value) in names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        context.Report(DiagnosticDescriptors.YamlUnknownValue, context.Location(node), what, YamlContext.Shorten(text), string.Join(", ", names.Select(n => n.Name)), Suggestions.DidYouMean(text, names.Select(n => n.Name)));
        return names[0].Value;
    }
}
