using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace SlmGen.Generator.Model;

/// <summary>
/// A location that pipeline models can hold (a <see cref="Location"/> would keep a syntax tree alive and
/// break caching). Turned back into a source location when the diagnostic is reported, so that #pragma
/// and per-file .editorconfig severities apply to diagnostics in C# files.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.Kind is not (LocationKind.SourceFile or LocationKind.ExternalFile))
        {
            return null;
        }

        var lineSpan = location.GetLineSpan();
        return new LocationInfo(lineSpan.Path ?? string.Empty, location.SourceSpan, lineSpan.Span);
    }

    /// <summary>A source location in the compilation's tree for the same file, else a file location.</summary>
    public Location ToLocation(Compilation? compilation)
    {
        var tree = compilation?.SyntaxTrees.FirstOrDefault(t => t.FilePath == FilePath);
        return tree is not null && Span.End <= tree.Length
            ? Location.Create(tree, Span)
            : Location.Create(FilePath, Span, LineSpan);
    }
}
