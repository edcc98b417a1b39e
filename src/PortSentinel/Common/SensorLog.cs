namespace PortSentinel.Common;

/// <summary>A line for the log: what happened, in a form fail2ban and people can read.</summary>
public delegate void SensorLog(string line);
