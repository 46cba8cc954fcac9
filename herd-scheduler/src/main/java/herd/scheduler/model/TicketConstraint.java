package herd.scheduler.model;

/** rsc_ticket: the resource may run (in role) only while the ticket is granted; lossPolicy says what to do. */
public record TicketConstraint(String id, String resource, Role role, String ticket, String lossPolicy) {}
