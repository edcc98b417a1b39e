namespace PortSentinel.Web.Accounts;

/// <summary>The two roles: admins do everything, viewers only read.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Viewer = "viewer";

    public static bool IsKnown(string? role) => role is Admin or Viewer;
}
