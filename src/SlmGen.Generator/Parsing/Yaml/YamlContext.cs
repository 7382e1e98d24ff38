using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using SlmGen.Generator.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Generator.Parsing.Yaml;

/// <summary>One spec file being read: its path, the diagnostics met so far, and locations of nodes in it.</summary>
internal sealed class YamlContext
{
    public YamlContext(string path) => Path = path;

    public string Path { get; }

    /// <summary>Characters removed from the start of the text before parsing (a byte-order mark), added back to locations.</summary>
    public int Shift { get; set; }

    public List<DiagnosticInfo> Diagnostics { get; } = new();

    public void Report(DiagnosticDescriptor descriptor, LocationInfo? location, params object?[] args) =>
        Diagnostics.Add(DiagnosticInfo.Create(descriptor, location ?? FileStart(), args));

    public LocationInfo FileStart() => new(Path, new TextSpan(0, 0), new LinePositionSpan(LinePosition.Zero, LinePosition.Zero));

    public LocationInfo Location(YamlNode node) => Location(node.Start, node.End);

    public LocationInfo Location(Mark start, Mark end)
    {
        var s = (int)Math.Max(0, start.Index) + Shift;
        var e = (int)Math.Max(s, end.Index + Shift);
        var startPos = new LinePosition((int)Math.Max(0, start.Line - 1), (int)Math.Max(0, start.Column - 1) + (start.Line <= 1 ? Shift : 0));
        var endPos = new LinePosition((int)Math.Max(0, end.Line - 1), (int)Math.Max(0, end.Column - 1) + (end.Line <= 1 ? Shift : 0));
        if (endPos < startPos)
        {
            endPos = startPos;
        }

        return new LocationInfo(Path, TextSpan.FromBounds(s, e), new LinePositionSpan(startPos, endPos));
    }

    /// <summary>A node in words, for messages.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode { Value: null or "" } => "an empty value",
        YamlScalarNode s => $"'{Shorten(s.Value!)}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "a value",
    };

    /// <summary>A value cut to 60 characters, for messages.</summary>
    public static string Shorten(string text) => text.Length <= 60 ? text : text.Substring(0, 57) + "...";
}
