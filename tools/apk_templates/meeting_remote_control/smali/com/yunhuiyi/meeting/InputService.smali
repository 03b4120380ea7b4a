.class public Lcom/yunhuiyi/meeting/InputService;
.super Landroid/accessibilityservice/AccessibilityService;
.source "InputService.java"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/accessibilityservice/AccessibilityService;-><init>()V
    return-void
.end method

.method public onAccessibilityEvent(Landroid/view/accessibility/AccessibilityEvent;)V
    .registers 2
    return-void
.end method

.method public onInterrupt()V
    .registers 1
    return-void
.end method
