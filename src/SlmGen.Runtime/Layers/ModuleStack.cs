using System;
using TorchSharp;
using TorchSharp.Modules;

namespace SlmGen.Layers;

/// <summary>Builds a stack of distinct modules (the blocks of a transformer stack), for generated code.</summary>
public static class ModuleStack
{
    /// <summary>A <see cref="ModuleList{T}"/> of <paramref name="count"/> modules, each made by <paramref name="create"/>.</summary>
    public static ModuleList<T> Of<T>(int count, Func<T> create)
        where T : torch.nn.Module
    {
        var modules = new T[count];
        for (var i = 0; i < count; i++)
        {
            modules[i] = create();
        }

        return torch.nn.ModuleList(modules);
    }

    /// <summary>A <see cref="ModuleList{T}"/> of <paramref name="count"/> modules, module i made by <paramref name="create"/>(i) (blocks of different shapes, from a table).</summary>
    public static ModuleList<T> Of<T>(int count, Func<int, T> create)
        where T : torch.nn.Module
    {
        var modules = new T[count];
        for (var i = 0; i < count; i++)
        {
            modules[i] = create(i);
        }

        return torch.nn.ModuleList(modules);
    }

    /// <summary>A <see cref="ModuleList{T}"/> of the given modules (blocks of different shapes).</summary>
    public static ModuleList<T> Of<T>(params T[] modules)
        where T : torch.nn.Module => torch.nn.ModuleList(modules);
}
