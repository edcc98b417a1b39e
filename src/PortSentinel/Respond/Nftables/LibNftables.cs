using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PortSentinel.Respond.Nftables;

/// <summary>libnftables (libnftables.so.1, Debian's libnftables1), with the C names of libnftables(3).</summary>
internal static partial class LibNftables
{
    private const string Library = "libnftables.so.1";

    public const uint CtxDefault = 0;

    /// <summary>NFT_CTX_OUTPUT_JSON: list commands answer in libnftables-json(5).</summary>
    public const uint OutputJson = 1 << 4;

    /// <summary>NFT_CTX_OUTPUT_TERSE: listings leave out the sets' elements.</summary>
    public const uint OutputTerse = 1 << 11;

    [LibraryImport(Library, EntryPoint = "nft_ctx_new")]
    public static partial NftContextHandle nft_ctx_new(uint flags);

    [LibraryImport(Library, EntryPoint = "nft_ctx_free")]
    public static partial void nft_ctx_free(nint ctx);

    [LibraryImport(Library, EntryPoint = "nft_ctx_output_set_flags")]
    public static partial void nft_ctx_output_set_flags(NftContextHandle ctx, uint flags);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_output")]
    public static partial int nft_ctx_buffer_output(NftContextHandle ctx);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_error")]
    public static partial int nft_ctx_buffer_error(NftContextHandle ctx);

    [LibraryImport(Library, EntryPoint = "nft_ctx_get_output_buffer")]
    public static partial nint nft_ctx_get_output_buffer(NftContextHandle ctx);

    [LibraryImport(Library, EntryPoint = "nft_ctx_get_error_buffer")]
    public static partial nint nft_ctx_get_error_buffer(NftContextHandle ctx);

    /// <summary>Runs a script of commands as one transaction: all or nothing. 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nft_run_cmd_from_buffer(NftContextHandle ctx, string buffer);
}

/// <summary>An owned struct nft_ctx; released with nft_ctx_free.</summary>
internal sealed class NftContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public NftContextHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibNftables.nft_ctx_free(handle);
        return true;
    }
}
