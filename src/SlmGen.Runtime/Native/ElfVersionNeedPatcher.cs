// This file is compiled twice: into SlmGen.Runtime (the start-up fallback) and, as an MSBuild inline
// task's source, into the build (SlmGen.targets). Keep it free of anything but the BCL.
#nullable enable
using System;
using System.IO;
using System.Text;

namespace SlmGen.Native
{
    /// <summary>
    /// Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK in its
    /// <c>.gnu.version_r</c> entry), so the dynamic loader accepts the library on a system whose
    /// libstdc++ lacks that version.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107.0's <c>libLibTorchSharp.so</c> requires <c>GLIBCXX_3.4.32</c> only for
    /// <c>_ZSt21ios_base_library_initv</c>, a symbol it references without any relocation. Debian 12's
    /// libstdc++ stops at 3.4.30, so without the patch the loader refuses the library and every
    /// <c>torch.*</c> call throws. A weak need is still satisfied where the version exists, so the
    /// patch is harmless on newer systems and is applied wherever the file is found.
    /// </remarks>
    public static class ElfVersionNeedPatcher
    {
        /// <summary>The version need TorchSharp 0.107.0 declares but does not use.</summary>
        public const string TorchSharpExtraVersion = "GLIBCXX_3.4.32";

        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>What <see cref="Inspect"/> found.</summary>
        public enum State
        {
            /// <summary>The file is not a 64-bit little-endian ELF file or has no version needs.</summary>
            NotApplicable,
            /// <summary>The file does not name the version at all.</summary>
            VersionNotNeeded,
            /// <summary>The file names the version and the need is strong: the loader refuses it where the version is missing.</summary>
            NeedsPatch,
            /// <summary>The need is already weak.</summary>
            AlreadyWeak,
        }

        /// <summary>Tells whether <paramref name="path"/> holds a strong need for <paramref name="version"/>.</summary>
        public static State Inspect(string path, string version = TorchSharpExtraVersion)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindFlagsOffset(bytes, version, out var state);
            return offset < 0 ? state : (ReadU16(bytes, offset) & VerFlagWeak) != 0 ? State.AlreadyWeak : State.NeedsPatch;
        }

        /// <summary>
        /// Makes the need for <paramref name="version"/> weak. The file is rewritten through a temporary
        /// file and a rename, so a crash never leaves a half-written library and a hard link into a
        /// package cache is never modified. Returns true when the file was changed.
        /// </summary>
        public static bool Patch(string path, string version = TorchSharpExtraVersion)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindFlagsOffset(bytes, version, out _);
            if (offset < 0)
            {
                return false;
            }

            var flags = ReadU16(bytes, offset);
            if ((flags & VerFlagWeak) != 0)
            {
                return false;
            }

            flags |= VerFlagWeak;
            var temp = path + ".slmgen-" + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                // Copy (keeps the file mode), change two bytes in the copy, then rename it over the original.
                File.Copy(path, temp);
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write))
                {
                    stream.Position = offset;
                    stream.WriteByte((byte)(flags & 0xff));
                    stream.WriteByte((byte)(flags >> 8));
                    stream.Flush(true);
                }

                File.Delete(path);
                File.Move(temp, path);
            }
            finally
            {
                if (File.Exists(temp))
                {
                    File.Delete(temp);
                }
            }

            return true;
        }

        // Returns the file offset of vna_flags of the Vernaux entry naming `version`, or -1.
        private static int FindFlagsOffset(byte[] b, string version, out State state)
        {
            state = State.NotApplicable;
            // ELF magic, ELFCLASS64, ELFDATA2LSB.
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            {
                return -1;
            }

            var shoff = (long)ReadU64(b, 0x28);
            int shentsize = ReadU16(b, 0x3a);
            int shnum = ReadU16(b, 0x3c);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > b.Length)
            {
                return -1;
            }

            for (var i = 0; i < shnum; i++)
            {
                var sh = (int)(shoff + (long)i * shentsize);
                if (ReadU32(b, sh + 4) != ShtGnuVerneed)
                {
                    continue;
                }

                var secOffset = (int)ReadU64(b, sh + 0x18);
                var link = (int)ReadU32(b, sh + 0x28);
                var count = (int)ReadU32(b, sh + 0x2c);
                var strSh = (int)(shoff + (long)link * shentsize);
                var strOffset = (int)ReadU64(b, strSh + 0x18);

                state = State.VersionNotNeeded;
                var vn = secOffset;
                for (var n = 0; n < count; n++)
                {
                    int auxCount = ReadU16(b, vn + 2);
                    var aux = vn + (int)ReadU32(b, vn + 8);
                    for (var a = 0; a < auxCount; a++)
                    {
                        var name = ReadCString(b, strOffset + (int)ReadU32(b, aux + 8));
                        if (name == version)
                        {
                            return aux + 4;
                        }

                        aux += (int)ReadU32(b, aux + 12);
                    }

                    var next = (int)ReadU32(b, vn + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    vn += next;
                }
            }

            return -1;
        }

        private static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));

        private static uint ReadU32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

        private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32);

        private static string ReadCString(byte[] b, int o)
        {
            var end = o;
            while (end < b.Length && b[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(b, o, end - o);
        }
    }
}

#if !SLMGEN_RUNTIME
namespace SlmGen.Native
{
    /// <summary>MSBuild task: patches every copy of libLibTorchSharp.so found in the given folders.</summary>
    public sealed class SlmGenPatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        /// <summary>Files to inspect (libLibTorchSharp.so copies in the output or publish folder).</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            foreach (var item in Files)
            {
                var path = item.GetMetadata("FullPath");
                if (!File.Exists(path))
                {
                    continue;
                }

                try
                {
                    if (ElfVersionNeedPatcher.Patch(path))
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                            "SlmGen: marked the " + ElfVersionNeedPatcher.TorchSharpExtraVersion + " need of " + path + " as weak.");
                    }
                }
                catch (Exception ex)
                {
                    Log.LogWarning(null, "SLMGEN_NATIVE", null, path, 0, 0, 0, 0,
                        "SlmGen could not patch {0}: {1}. TorchSharp may fail to load on systems whose libstdc++ lacks {2}.",
                        path, ex.Message, ElfVersionNeedPatcher.TorchSharpExtraVersion);
                }
            }

            return true;
        }
    }
}
#endif

